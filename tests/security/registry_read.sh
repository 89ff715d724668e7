# SPDX-License-Identifier: GPL-3.0-or-later
# Hole 5 of issue 13: a service's user reads xoe's registry. Two roots on
# one host, a service in each (6.0, SQLite); as each service's user: the
# registry (xoe.db, -wal, -shm) of its own root cannot be read, the state
# folders of its own root cannot be listed, and the other root's state
# cannot even be entered (a group per root). The services still run (their
# users traverse their own root). On the old code the registry was 0644 in
# folders of one host-wide group, readable by every service user of every
# root.
source "${OE_SOURCE_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}/tests/security/lib.sh"
xoe_setup
X software fetch tryton/6.0 >/dev/null
XROOT2=$BED_DIR/root2
mkdir -p "$XROOT2"
X2() { xoe --root "$XROOT2" "$@"; }
bed_on_exit X2 supervisor stop
n1=q$XID n2=q$XID-other
xoe_create "$n1" 6.0 sqlite production >/dev/null
OE_XOE_SERVICES_PORT_MIN=$((XOE_PORT_MIN + 20)) X2 software fetch tryton/6.0 >/dev/null
OE_XOE_SERVICES_PORT_MIN=$((XOE_PORT_MIN + 20)) X2 service create "$n2" --software tryton --version 6.0 --db-backend sqlite >/dev/null
state1=$XROOT/var/lib/oe/xoe state2=$XROOT2/var/lib/oe/xoe
u1=$(stat -c %U "$state1/services/$n1/data") u2=$(stat -c %U "$state2/services/$n2/data")
ok "roots $XROOT ($n1, $u1) and $XROOT2 ($n2, $u2)"

cannot() {
  local user=$1 what=$2
  shift 2
  ! bed_as "$user" "$@" >/dev/null 2>&1 || bed_fail "$user could $what: $*"
}
for f in xoe.db xoe.db-wal xoe.db-shm; do
  [[ -e $state1/$f ]] || continue
  cannot "$u1" "read its root's $f" cat "$state1/$f"
  cannot "$u2" "read the other root's $f" cat "$state1/$f"
  bed_assert_eq "600 root" "$(stat -c '%a %U' "$state1/$f")" "mode of $f"
done
cannot "$u1" "open its root's registry with sqlite3" sqlite3 -readonly "$state1/xoe.db" "select name from services"
cannot "$u1" "list its root's state folder" ls "$state1"
cannot "$u1" "list its root's services" ls "$state1/services"
cannot "$u2" "enter the other root's state folder" stat "$state1/services/$n1"
cannot "$u1" "enter the other root's state folder" stat "$state2/services/$n2"
ok "the registry and the state folders are root's; another root's state cannot be entered"

[[ $(stat -c %G "$state1") != "$(stat -c %G "$state2")" ]] || bed_fail "both roots' state folders are of group $(stat -c %G "$state1")"
bed_assert_eq run "$(X service status "$n1" --json | xoe_json 'd["service"]["state"]')" "$n1 runs"
bed_as "$u1" ls "$state1/services/$n1/data" >/dev/null || bed_fail "$u1 cannot reach its own data folder"
ok "one group per root; each service's user reaches its own folder"
