# SPDX-License-Identifier: GPL-3.0-or-later
# xoe refuses bad input with a one-line error and its documented exit code,
# writes nothing and leaves a running service untouched: unknown software or
# version, a name that is not a label, a port in use or given to another
# service, a backend the software does not run on, a version not fetched, a
# name taken, a broken recipe; a missing template is built again.
source "${OE_SOURCE_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}/tests/bed/bed.sh"
bed_init
source "$OE_SOURCE_DIR/tests/xoe/lib.sh"
bed_postgres
xoe_setup

X software fetch tryton/7.0 >/dev/null
s=run-$XID
out=$(X service create "$s" --software tryton --version 7.0 --db-backend sqlite --json)
pw=$(xoe_json 'd["service"]["admin_password"]' <<<"$out")
port=$(X service show "$s" --json | xoe_json 'd["service"]["port"]')
pid=$(X service status "$s" --json | xoe_json 'd["service"]["pid"]')
# The system users of this root's services (their home is under it): other
# tests running beside this one make users of their own.
state() { X service list --json; ls -A "$XROOT/var/lib/oe/xoe/services" "$XROOT/var/lib/oe/xoe/sv"; getent passwd | awk -F: -v r="$XROOT/" '$1 ~ /^xoe-/ && index($6, r) == 1' | wc -l; }
before=$(state)

# expect CODE MESSAGE-PART ARGS...: exit code, one line on stderr, nothing changed.
expect() {
  local code=$1 part=$2 rc=0 err
  shift 2
  err=$(X "$@" 2>&1 >/dev/null) || rc=$?
  bed_assert_eq "$code" "$rc" "exit code of xoe $*"
  bed_assert_contains "$err" "$part" "message of xoe $*"
  [[ $(wc -l <<<"$err") == 1 ]] || bed_fail "more than one line for xoe $*: $err"
  bed_assert_eq "$before" "$(state)" "state after xoe $*"
}

expect 3 "no recipe for nosuch/7.0" service create "x-$XID" --software nosuch --version 7.0
expect 3 "no recipe for tryton/9.9" service create "x-$XID" --software tryton --version 9.9
expect 3 "no recipe for tryton/9.9" software fetch tryton/9.9
expect 2 "--version 'seven'" service create "x-$XID" --software tryton --version seven
expect 2 "service name 'Bad_Name'" service create Bad_Name --software tryton --version 7.0
expect 2 "service name '-x'" service create --software tryton --version 7.0 -- -x
expect 2 "service name" service create "$(printf 'a%.0s' {1..64})" --software tryton --version 7.0
expect 2 "--role 'boss'" service create "x-$XID" --software tryton --version 7.0 --role boss
expect 2 "odoo/17.0 does not run on sqlite" service create "x-$XID" --software odoo --version 17.0 --db-backend sqlite
expect 2 "module name 'Sale;drop'" service create "x-$XID" --software tryton --version 7.0 --modules 'Sale;drop'
expect 3 "module 'sale' is not in tryton/7.0 as fetched" service create "x-$XID" --software tryton --version 7.0 --modules party,sale
expect 6 "tryton/5.0 is not fetched" service create "x-$XID" --software tryton --version 5.0 --db-backend sqlite
expect 4 "port $PGPORT is in use" service create "x-$XID" --software tryton --version 7.0 --db-backend sqlite --port "$PGPORT"
expect 4 "port $port is given to another service" service create "x-$XID" --software tryton --version 7.0 --db-backend sqlite --port "$port"
expect 4 "service $s exists" service create "$s" --software tryton --version 7.0 --db-backend sqlite
expect 3 "no service nosuch" service show nosuch
expect 3 "no service nosuch" service remove nosuch
expect 2 "needs --source" software fetch odoo/17.0
expect 3 "no such folder" software fetch odoo/17.0 --source /nonexistent
ok "bad input: documented exit codes, one line, nothing changed"

# A broken recipe stops the command with its file and line.
mkdir "$BED_DIR/recipes"
cp "$OE_SOURCE_DIR"/etc/oe/recipes/*.toml "$BED_DIR/recipes/"
printf '[extra]\ntimeout = 3\n' >>"$BED_DIR/recipes/tryton-6.0.toml"
line=$(grep -n '^timeout = 3' "$BED_DIR/recipes/tryton-6.0.toml" | cut -d: -f1)
OE_XOE_SOFTWARE_RECIPES=$BED_DIR/recipes expect 2 "$BED_DIR/recipes/tryton-6.0.toml:$line: unknown key 'extra.timeout'" software list
ok "broken recipe: file and line, exit 2"

# The running service was not touched.
bed_assert_eq "$pid" "$(X service status "$s" --json | xoe_json 'd["service"]["pid"]')" "pid of the running service"
bed_assert_eq 1 "$(xoe_login "$port" "$s" admin "$pw")" "login"
ok "the running service was untouched"

# A missing template (a folder removed by hand, a database dropped by hand):
# the next create builds it again, with a warning, and works.
sq_tpl=$(sqlite3 "$XROOT/var/lib/oe/xoe/xoe.db" "select location from templates where backend = 'sqlite'")
rm -rf "$sq_tpl"
err=$(X service create "m1-$XID" --software tryton --version 7.0 --db-backend sqlite 2>&1 >/dev/null)
bed_assert_contains "$err" "is recorded but missing: building it again" "warning for the SQLite template"
[[ -f $sq_tpl/$(basename "$sq_tpl").sqlite ]] || bed_fail "SQLite template not built again"
X service create "m2-$XID" --software tryton --version 7.0 --db-backend postgresql >/dev/null
pg_tpl=$(sqlite3 "$XROOT/var/lib/oe/xoe/xoe.db" "select name from templates where backend = 'postgresql'")
psql -X -q -c "DROP DATABASE \"$pg_tpl\""
out=$(X service create "m3-$XID" --software tryton --version 7.0 --db-backend postgresql --json 2>"$BED_DIR/m3.err") ||
  bed_fail "create m3-$XID after the template was dropped: $(cat "$BED_DIR/m3.err")"
bed_assert_contains "$(cat "$BED_DIR/m3.err")" "template database $pg_tpl is recorded but missing" "warning for the PostgreSQL template"
bed_assert_eq 1 "$(psql -X -A -t -c "select count(*) from pg_database where datname = '$pg_tpl'")" "PostgreSQL template built again"
m3port=$(X service show "m3-$XID" --json | xoe_json 'd["service"]["port"]')
bed_assert_eq 1 "$(xoe_login "$m3port" "m3-$XID" admin "$(xoe_json 'd["service"]["admin_password"]' <<<"$out")")" "login of the service made from the rebuilt template"
for m in m1 m2 m3; do X service remove "$m-$XID" >/dev/null; done
ok "a missing template (SQLite folder, PostgreSQL database): built again by the next create, with a warning"
X service remove "$s" >/dev/null
X supervisor stop >/dev/null
