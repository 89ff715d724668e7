# SPDX-License-Identifier: GPL-3.0-or-later
# Database copies between services, neutralised: Tryton 7.0 on the bed's
# PostgreSQL (CREATE DATABASE ... TEMPLATE, the source's database drained
# for the copy, its server running: a client's session goes on after it)
# and 6.0 on SQLite (online backup); in the copy every cron is off, the mail
# goes to the bed's SMTP catcher (a real mail sent with the copy's config
# arrives there), the admin's name shows it is a copy, the training service
# logs in. A copy refused while someone holds a connection to the source
# (the source opened again); a copy killed while the source is drained,
# finished by the next run (a request made meanwhile waits and is answered);
# a recipe that drains by a restart (5.0, 6.0, Odoo): the source's server
# stopped for the copy, and started by the next run after a killed one; the nightly training refresh from production's
# last backup.
source "${OE_SOURCE_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}/tests/bed/bed.sh"
bed_init
source "$OE_SOURCE_DIR/tests/xoe/lib.sh"
bed_postgres
bed_smtp
xoe_setup
export OE_XOE_MAIL_CATCHER=smtp://127.0.0.1:$BED_SMTP_PORT
T0=$SECONDS

X software fetch tryton/7.0 >/dev/null
X software fetch tryton/6.0 >/dev/null
p=k$XID-production t=k$XID-training
ppw=$(xoe_create "$p" 7.0 postgresql production)
tpw=$(xoe_create "$t" 7.0 postgresql training)
pshow=$(X service show "$p" --json) tshow=$(X service show "$t" --json)
pport=$(xoe_json 'd["service"]["port"]' <<<"$pshow") tport=$(xoe_json 'd["service"]["port"]' <<<"$tshow")
ok "production and training (7.0, PostgreSQL) in $((SECONDS - T0)) s"

xoe_rpc "$pport" "$p" admin "$ppw" model.res.group.create '[[{"name": "prod-record"}]]' >/dev/null
ncron=$(xoe_sql "$pshow" "select count(*) from ir_cron where active")
((ncron > 0)) || bed_fail "production has no active cron to compare with"
pid() { X service status "$1" --json | xoe_json 'd["service"]["pid"]'; }
state() { X service status "$1" --json | xoe_json 'd["service"]["state"]'; }
allowconn() { psql -X -A -t -c "select datallowconn from pg_database where datname = '$1'"; }
ppid=$(pid "$p")
# A client's session on production, opened before the copies and used after them.
session=$(xoe_session "$pport" "$p" admin "$ppw")
count_records() { xoe_call "$pport" "$p" "$session" model.res.group.search_count '[[["name", "=", "prod-record"]]]'; }
bed_assert_eq 1 "$(count_records)" "the client's session"

# ---------------------------------------------------------------- refused while the source is in use
psql -X -q -d "$p" -c "select pg_sleep(60)" >/dev/null 2>&1 &
holder=$!
bed_wait 10 "a session on $p" bash -c "[[ \$(psql -X -A -t -c \"select count(*) from pg_stat_activity where datname = '$p' and query like '%pg_sleep%'\") == 1 ]]"
rc=0; err=$(X db copy "$p" "$t" 2>&1 >/dev/null) || rc=$?
psql -X -q -c "select pg_terminate_backend(pid) from pg_stat_activity where datname = '$p' and query like '%pg_sleep%'" >/dev/null
wait "$holder" 2>/dev/null || true
bed_assert_eq 4 "$rc" "copy while someone is connected to the source"
# The last line is the error (the lines before it are the job's log of its rollback).
bed_assert_contains "$(tail -n1 <<<"$err")" "xoe: database $p is in use by another session" "message"
bed_assert_eq "$ppid t" "$(pid "$p") $(allowconn "$p")" "source's server kept running, its database open again"
bed_assert_eq 1 "$(xoe_login "$pport" "$p" admin "$ppw")" "source login after the refused copy"
bed_assert_eq 0 "$(xoe_sql "$tshow" "select count(*) from res_group where name = 'prod-record'")" "target untouched"
bed_assert_eq 1 "$(xoe_login "$tport" "$t" admin "$tpw")" "target login after the refused copy"
ok "copy refused while a session holds the source (exit 4), source open again, target untouched"

# ---------------------------------------------------------------- the copy
t0=$SECONDS
c=$(X db copy "$p" "$t" --json)
ok "db copy $p -> $t in $((SECONDS - t0)) s"
bed_assert_eq "True True" "$(xoe_json 'str(d["copy"]["neutralised"])+" "+str(d["copy"]["source_drained"])' <<<"$c")" "copy --json"
bed_assert_eq "$ppid t" "$(pid "$p") $(allowconn "$p")" "source's server not restarted, its database open"
bed_assert_eq 1 "$(count_records)" "the client's session on production goes on after the copy"
bed_assert_eq 1 "$(xoe_sql "$tshow" "select count(*) from res_group where name = 'prod-record'")" "record in the copy"
bed_assert_eq 0 "$(xoe_sql "$tshow" "select count(*) from ir_cron where active")" "crons off in the copy"
bed_assert_eq "$ncron" "$(xoe_sql "$pshow" "select count(*) from ir_cron where active")" "crons of production untouched"
bed_assert_contains "$(xoe_sql "$tshow" "select name from res_user where login = 'admin'")" "[training copy of $p]" "marker"
[[ $(xoe_sql "$pshow" "select name from res_user where login = 'admin'") != *copy* ]] || bed_fail "production marked"
bed_assert_eq 1 "$(xoe_login "$tport" "$t" admin "$tpw")" "training login with its own password"
bed_assert_eq 1 "$(xoe_login "$pport" "$p" admin "$ppw")" "production login after the copy"
xoe_login "$tport" "$t" admin "$ppw" >/dev/null 2>&1 && bed_fail "production's password logs into training"
# Mail of the copy reaches the catcher, through trytond's own sendmail and the copy's config.
conf=$XROOT/var/lib/oe/xoe/services/$t/trytond.conf
bed_assert_contains "$(cat "$conf")" "uri = smtp://127.0.0.1:$BED_SMTP_PORT" "mail uri of the copy"
[[ $(cat "$XROOT/var/lib/oe/xoe/services/$p/trytond.conf") != *"$BED_SMTP_PORT"* ]] || bed_fail "production's mail redirected"
bed_assert_contains "$(cat "$XROOT/var/lib/oe/xoe/services/$p/trytond.conf")" $'[email]\nuri = smtp://localhost:25\n' \
  "production's mail (no relay configured)"
PYTHONPATH=$XROOT/var/lib/oe/xoe/software/tryton/7.0/site /usr/bin/python3 -S - "$conf" <<'PY'
import sys
from email.message import EmailMessage
from trytond.config import config
config.update_etc(sys.argv[1])
from trytond.sendmail import sendmail
m = EmailMessage()
m["Subject"], m["From"], m["To"] = "from the training copy", "erp@example.org", "customer@example.org"
m.set_content("caught")
sendmail("erp@example.org", ["customer@example.org"], m, strict=True)
PY
bed_wait 10 "the mail in the catcher" bash -c "grep -rlq 'from the training copy' '$BED_MAILDIR/new'"
ok "copy neutralised: record there, $ncron crons off, marker, mail caught, training logs in"

# ---------------------------------------------------------------- killed while the source is drained
rc=0; OE_CRASH_AT=db.copy:clone X db copy "$p" "$t" >/dev/null 2>&1 || rc=$?
bed_assert_eq 137 "$rc" "killed copy"
bed_assert_eq "$ppid f" "$(pid "$p") $(allowconn "$p")" "source's server running, its database drained by the killed copy"
# A request in the client's session meanwhile waits for a connection (Tryton 7.0 retries each second).
count_records >"$BED_DIR/waiting.out" 2>&1 &
waiting=$!
sleep 2
kill -0 "$waiting" 2>/dev/null || bed_fail "the request did not wait for the drained database: $(cat "$BED_DIR/waiting.out")"
bed_assert_eq True "$(X db copy "$p" "$t" --json | xoe_json 'd["copy"]["resumed"]')" "copy resumed"
wait "$waiting" || bed_fail "the waiting request failed: $(cat "$BED_DIR/waiting.out")"
bed_assert_eq 1 "$(cat "$BED_DIR/waiting.out")" "the waiting request answered after the resumed copy"
bed_assert_eq "$ppid t" "$(pid "$p") $(allowconn "$p")" "source open after the resumed copy"
bed_assert_eq 1 "$(xoe_login "$pport" "$p" admin "$ppw")" "source login"
bed_assert_eq 1 "$(xoe_login "$tport" "$t" admin "$tpw")" "target login"
[[ ! -e $XROOT/var/lib/oe/xoe/work/$t ]] || bed_fail "work folder left"
bed_assert_eq 0 "$(psql -X -A -t -c "select count(*) from pg_database where datname like 'xoe-new-%' or datname like 'xoe-old-%'")" "temporary databases"
ok "copy killed with the source drained: a request waited, the next run finished the copy and opened the source"

# ---------------------------------------------------------------- drained by a restart (5.0, 6.0, Odoo)
restart=$(xoe_restart_drain)
c=$(OE_XOE_SOFTWARE_RECIPES=$restart X db copy "$p" "$t" --json)
bed_assert_eq "True True" "$(xoe_json 'str(d["copy"]["source_drained"])+" "+str(d["copy"]["source_stopped"])' <<<"$c")" "copy --json, drained by a restart"
[[ $(pid "$p") != "$ppid" ]] || bed_fail "the source's server was not restarted"
bed_assert_eq "run t" "$(state "$p") $(allowconn "$p")" "source restarted after the copy"
rc=0; OE_XOE_SOFTWARE_RECIPES=$restart OE_CRASH_AT=db.copy:clone X db copy "$p" "$t" >/dev/null 2>&1 || rc=$?
bed_assert_eq 137 "$rc" "killed copy"
bed_assert_eq "down t" "$(state "$p") $(allowconn "$p")" "source's server stopped by the killed copy"
# Resumed with the shipped recipe: the run's marker says how its source was drained.
bed_assert_eq True "$(X db copy "$p" "$t" --json | xoe_json 'd["copy"]["resumed"]')" "copy resumed"
bed_assert_eq "run t" "$(state "$p") $(allowconn "$p")" "source started by the resumed copy"
bed_assert_eq 1 "$(xoe_login "$pport" "$p" admin "$ppw")" "source login"
bed_assert_eq 1 "$(count_records)" "the client's session after the restarts"
ok "a source drained by a restart: stopped for the copy, started by the next run after a killed one"

# ---------------------------------------------------------------- training refresh from the nightly backup
rc=0; err=$(X training refresh "$t" 2>&1 >/dev/null) || rc=$?
bed_assert_eq 3 "$rc" "refresh without a backup ($err)"
X backup "$p" >/dev/null
xoe_rpc "$pport" "$p" admin "$ppw" model.res.group.create '[[{"name": "after-nightly"}]]' >/dev/null
xoe_rpc "$tport" "$t" admin "$tpw" model.res.group.create '[[{"name": "training-exercise"}]]' >/dev/null
t0=$SECONDS
r=$(X training refresh "$t" --json)
ok "training refresh in $((SECONDS - t0)) s"
bed_assert_eq "$p True" "$(xoe_json 'd["refresh"]["production"]+" "+str(d["refresh"]["neutralised"])' <<<"$r")" "refresh --json"
bed_assert_eq "1 0 0" "$(for n in prod-record after-nightly training-exercise; do xoe_sql "$tshow" "select count(*) from res_group where name = '$n'"; done | tr '\n' ' ' | sed 's/ $//')" "training holds the nightly backup"
bed_assert_eq 0 "$(xoe_sql "$tshow" "select count(*) from ir_cron where active")" "crons off after the refresh"
bed_assert_eq 1 "$(xoe_login "$tport" "$t" admin "$tpw")" "training login after the refresh"
rc=0; X training refresh "$p" >/dev/null 2>&1 || rc=$?
bed_assert_eq 4 "$rc" "refresh of a production service"
ok "training refresh: production's nightly backup, neutralised, training logs in; production refused (4)"

# ---------------------------------------------------------------- SQLite (6.0): online backup, source running
sp=q$XID-production st=q$XID-training
sppw=$(xoe_create "$sp" 6.0 sqlite production)
stpw=$(xoe_create "$st" 6.0 sqlite test)
spshow=$(X service show "$sp" --json) stshow=$(X service show "$st" --json)
xoe_rpc "$(xoe_json 'd["service"]["port"]' <<<"$spshow")" "$sp" admin "$sppw" model.res.group.create '[[{"name": "prod-record"}]]' >/dev/null
pid=$(X service status "$sp" --json | xoe_json 'd["service"]["pid"]')
c=$(X db copy "$sp" "$st" --json)
bed_assert_eq "True False" "$(xoe_json 'str(d["copy"]["neutralised"])+" "+str(d["copy"]["source_drained"])' <<<"$c")" "SQLite copy --json"
bed_assert_eq "$pid" "$(X service status "$sp" --json | xoe_json 'd["service"]["pid"]')" "SQLite source kept running"
bed_assert_eq 1 "$(xoe_sql "$stshow" "select count(*) from res_group where name = 'prod-record'")" "record in the SQLite copy"
bed_assert_eq 0 "$(xoe_sql "$stshow" "select count(*) from ir_cron where active")" "crons off in the SQLite copy"
bed_assert_contains "$(xoe_sql "$stshow" "select name from res_user where login = 'admin'")" "[test copy of $sp]" "marker"
bed_assert_eq 1 "$(xoe_login "$(xoe_json 'd["service"]["port"]' <<<"$stshow")" "$st" admin "$stpw")" "SQLite copy login"
ok "SQLite copy (6.0): source kept running, copy neutralised, logs in"

# ---------------------------------------------------------------- refusals and db list
expect() {
  local code=$1 part=$2 rc=0 err
  shift 2
  err=$(X "$@" 2>&1 >/dev/null) || rc=$?
  bed_assert_eq "$code" "$rc" "exit code of xoe $*"
  bed_assert_contains "$err" "$part" "message of xoe $*"
}
expect 4 "runs tryton/7.0" db copy "$p" "$st"
expect 2 "onto itself" db copy "$p" "$p"
expect 3 "no service nosuch" db copy nosuch "$t"
expect 3 "no backup of $sp" training refresh "$st"
expect 2 "--from 'Bad'" training refresh "$st" --from Bad
bed_assert_eq "$p $t $sp $st" "$(X db list --json | xoe_json '" ".join(x["service"] for x in sorted(d["databases"], key=lambda x: x["service"]))')" "db list"
(( $(X db list --json | xoe_json 'min(x["bytes"] for x in d["databases"])') > 0 )) || bed_fail "db list sizes"
ok "refusals (exit 2/3/4) and db list"

! grep -rqF -e "$ppw" -e "$tpw" "$XROOT/var/log" || bed_fail "a password is in a log"
X supervisor stop >/dev/null
ok "all in $((SECONDS - T0)) s"
