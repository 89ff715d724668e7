# SPDX-License-Identifier: GPL-3.0-or-later
# Root never runs a customer's code (issue 13, hole 8; DESIGN.md rule 9): a
# service's poe series is the customer's code, and trytond-admin runs it in
# `service create --patches` (update and password steps) and `service
# update` (the migration). The series here adds to the module res a line
# that records the uid and command line of every process that imports it;
# each trytond-admin must be the service's own user, never root (the old
# code ran them all as root). The admin password still reaches trytond-admin
# (TRYTONPASSFILE=/dev/stdin from memory): the admin logs in with it.
source "${OE_SOURCE_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}/tests/bed/bed.sh"
bed_init
source "$OE_SOURCE_DIR/tests/xoe/lib.sh"
xoe_setup
P() { poe --root "$XROOT" "$@"; }

X software fetch tryton/6.0 >/dev/null
std6=$XROOT/var/lib/oe/xoe/software/tryton/6.0/root/usr/lib/python3/dist-packages/trytond
v6=$(sed -n 's/^__version__ = "\(.*\)"/\1/p' "$std6/__init__.py")
work=$BED_DIR/work
uids=$BED_DIR/uids
mkdir -p "$work" "$uids"
chmod 1777 "$uids"
cp -a "$std6" "$work/spy.tree"
cat >>"$work/spy.tree/res/__init__.py" <<PY

import os as _spy_os, sys as _spy_sys
with open("$uids/%d" % _spy_os.getpid(), "w") as _spy_file:
    _spy_file.write("%d %s\n" % (_spy_os.getuid(), " ".join(_spy_sys.argv)))
PY
P diff --standard "tryton/$v6" "$work/spy.tree" --output "$work/spy" >/dev/null

svc=au-$XID
# check WHAT: every trytond-admin that imported the series ran as the service's user, and one at least did.
check() {
  local uid admins root_runs
  uid=$(id -u "$(X service show "$svc" --json | xoe_json 'd["service"]["user"]')")
  admins=$(cat "$uids"/* 2>/dev/null | grep trytond-admin || true)
  [[ -n $admins ]] || bed_fail "no trytond-admin ran the series during $1"
  root_runs=$(grep -v "^$uid " <<<"$admins" || true)
  [[ -z $root_runs ]] || bed_fail "trytond-admin ran the customer's code as another user than $uid during $1: $root_runs"
  [[ $uid != 0 ]] || bed_fail "the service's user is root"
  ok "$1: $(wc -l <<<"$admins") trytond-admin runs of the series, all as uid $uid"
}

pw=$(X service create "$svc" --software tryton --version 6.0 --db-backend sqlite --role test --patches "$work/spy" --json |
  xoe_json 'd["service"]["admin_password"]')
check "service create --patches"
port=$(X service show "$svc" --json | xoe_json 'd["service"]["port"]')
bed_assert_eq 1 "$(xoe_login "$port" "$svc" admin "$pw")" "login with the password trytond-admin read from memory"

rm -f "$uids"/*
X service update "$svc" >/dev/null
check "service update"
bed_assert_eq 1 "$(xoe_login "$port" "$svc" admin "$pw")" "login after the update"

rm -f "$uids"/*
X db drop "$svc" --no-backup >/dev/null
X db create "$svc" >/dev/null
check "db drop, db create"
bed_assert_eq 1 "$(xoe_login "$port" "$svc" admin "$pw")" "login after db create"
X service remove "$svc" >/dev/null
