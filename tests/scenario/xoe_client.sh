# SPDX-License-Identifier: GPL-3.0-or-later
# xoe::Client (issue 15, item 2): the built xoe driven through
# command_client with local_runner (xoe --json, its answers read with
# wire.hpp) gives what local_client (libxoe in process) gives on the same
# root and services: list, show, supervisor status, config show, db list,
# monitor, stop through one and start through the other, a backup, errors
# with their kinds, and a create whose password logs in (tests/xoe/client_check.cpp).
source "${OE_SOURCE_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}/tests/bed/bed.sh"
bed_init
bed_postgres
source "$OE_SOURCE_DIR/tests/xoe/lib.sh"
xoe_setup

X software fetch tryton/7.0 >/dev/null
p=cl-$XID n=cn-$XID
xoe_create "$p" 7.0 postgresql production >/dev/null
ok "a PostgreSQL service runs"

check=$OE_BUILD_DIR/bin/client_check
[[ -x $check ]] || bed_fail "no $check (build the client_check target)"
"$check" "$XROOT" "$p" "$n" "$BED_DIR/new.pw" || bed_fail "client_check"

# The created service's effect: it runs and its password (from create's answer, read by command_client) logs in.
bed_assert_eq run "$(X service show "$n" --json | xoe_json 'd["service"]["state"]')" "state of $n"
port=$(X service show "$n" --json | xoe_json 'd["service"]["port"]')
bed_assert_eq 1 "$(xoe_login "$port" "$n" admin "$(cat "$BED_DIR/new.pw")")" "login with the password command_client read"
bed_assert_eq 1 "$(ls "$XROOT/var/lib/oe/xoe/backups/$p"/*.tar.zst | wc -l)" "archives of $p: the backup client_check made through xoe"
ok "the created service answers with its password"
X service remove "$n" >/dev/null
X service remove "$p" >/dev/null
