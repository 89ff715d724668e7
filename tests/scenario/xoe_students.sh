# SPDX-License-Identifier: GPL-3.0-or-later
# A class of students, each logging into their own copy: Tryton 7.0 on the
# bed's PostgreSQL. A record in the production database; a group of 3
# (--students 3) and a group from a --list file; each student logs in with
# their own password into their own database (copies of production are
# served by the training service's server, whose mail goes to the bed's
# SMTP catcher: a mail a student sends from their copy arrives there) and
# sees the record, a student's change stays in their copy, the crons are
# off, the teacher's credentials file is 0600; students copy gives
# each student copies of production and test; students remove drops them all
# (checked with psql); bad input refused with its exit code and nothing
# changed; the source's server runs on through a dissemination (its
# database drained: a client's session goes on after it); a run killed with
# the source drained is resumed by the next run, another rolled back by
# remove; a students copy killed with both servers stopped (a recipe that
# drains by a restart, as 5.0, 6.0 and Odoo do) resumed. Then SQLite.
source "${OE_SOURCE_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}/tests/bed/bed.sh"
bed_init
source "$OE_SOURCE_DIR/tests/xoe/lib.sh"
bed_postgres
bed_smtp
xoe_setup
export OE_XOE_MAIL_CATCHER=smtp://127.0.0.1:$BED_SMTP_PORT
T0=$SECONDS

X software fetch tryton/7.0 >/dev/null
p=k$XID-production t=k$XID-test tr=k$XID-training
ppw=$(xoe_create "$p" 7.0 postgresql production)
tpw=$(xoe_create "$t" 7.0 postgresql test)
xoe_create "$tr" 7.0 postgresql training >/dev/null
pshow=$(X service show "$p" --json)
pport=$(xoe_json 'd["service"]["port"]' <<<"$pshow") tport=$(X service show "$t" --json | xoe_json 'd["service"]["port"]')
# The students' copies of production are served by the training's server.
sport=$(X service show "$tr" --json | xoe_json 'd["service"]["port"]')
ok "production, training and test (7.0, PostgreSQL) in $((SECONDS - T0)) s"
xoe_rpc "$pport" "$p" admin "$ppw" model.res.group.create '[[{"name": "class-record"}]]' >/dev/null
ncron=$(psql -X -A -t -d "$p" -c "select count(*) from ir_cron where active")
((ncron > 0)) || bed_fail "production has no active cron to compare with"
q() { psql -X -A -t -d "$1" -c "$2"; }
state() { X service status "$1" --json | xoe_json 'd["service"]["state"]'; }
pid() { X service status "$1" --json | xoe_json 'd["service"]["pid"]'; }
allowconn() { q postgres "select datallowconn from pg_database where datname = '$1'"; }
ppid=$(pid "$p")
# A client's session on production, opened before the copies and used after them.
session=$(xoe_session "$pport" "$p" admin "$ppw")
creds=$XROOT/var/lib/oe/xoe/services/$tr/students

# ---------------------------------------------------------------- a group of 3
t0=$SECONDS
r=$(X students disseminate "$p" --group g1 --students 3 --json)
ok "disseminated to 3 students in $((SECONDS - t0)) s"
bed_assert_eq "$p g1 False" "$(xoe_json 'd["students"]["service"]+" "+d["students"]["group"]+" "+str(d["students"]["resumed"])' <<<"$r")" "--json"
bed_assert_eq "student01 student02 student03" "$(xoe_json '" ".join(s["login"] for s in d["students"]["students"])' <<<"$r")" "logins"
bed_assert_eq "$p-g1-student01 http://127.0.0.1:$sport/$p-g1-student01/ $tr" \
  "$(xoe_json '" ".join(d["students"]["students"][0][k] for k in ("database", "url", "service"))' <<<"$r")" "database, url and server"
declare -A pw
for i in 1 2 3; do pw[student0$i]=$(xoe_json "d['students']['students'][$((i - 1))]['password']" <<<"$r"); done
bed_assert_eq 3 "$(printf '%s\n' "${pw[@]}" | sort -u | grep -c .)" "three different passwords"
bed_assert_eq "run $ppid t" "$(state "$p") $(pid "$p") $(allowconn "$p")" "the service's server ran on, its database open again"
bed_assert_eq 1 "$(xoe_call "$pport" "$p" "$session" model.res.group.search_count '[[["name", "=", "class-record"]]]')" "the client's session on production after the dissemination"
bed_assert_eq 1 "$(xoe_login "$pport" "$p" admin "$ppw")" "production's admin after the dissemination"
for s in student01 student02 student03; do
  db=$p-g1-$s
  uid=$(xoe_login "$sport" "$db" "$s" "${pw[$s]}")
  ((uid > 1)) || bed_fail "$s logged in as user $uid"
  xoe_login "$pport" "$db" "$s" "${pw[$s]}" >/dev/null 2>&1 && bed_fail "production's server serves $db"
  bed_assert_eq 1 "$(xoe_rpc "$sport" "$db" "$s" "${pw[$s]}" model.res.group.search_count '[[["name", "=", "class-record"]]]')" "$s sees the record"
  bed_assert_eq 0 "$(q "$db" "select count(*) from ir_cron where active")" "crons off in $db"
  bed_assert_contains "$(q "$db" "select name from res_user where login = 'admin'")" "[student copy of $p]" "marker in $db"
done
xoe_login "$sport" "$p-g1-student02" student01 "${pw[student01]}" >/dev/null 2>&1 && bed_fail "student01 logs into student02's copy"
xoe_login "$pport" "$p" student01 "${pw[student01]}" >/dev/null 2>&1 && bed_fail "student01 logs into production"
xoe_rpc "$sport" "$p-g1-student01" student01 "${pw[student01]}" model.res.group.create '[[{"name": "exercise-01"}]]' >/dev/null
bed_assert_eq "1 0 0" "$(for db in "$p-g1-student01" "$p-g1-student02" "$p"; do q "$db" "select count(*) from res_group where name = 'exercise-01'"; done | tr '\n' ' ' | sed 's/ $//')" "a student's change stays in their copy"
bed_assert_eq "$ncron" "$(q "$p" "select count(*) from ir_cron where active")" "production's crons untouched"
[[ $(q "$p" "select name from res_user where login = 'admin'") != *copy* ]] || bed_fail "production marked"
f=$creds/g1.reference.credentials
bed_assert_eq "600 root" "$(stat -c '%a %U' "$f")" "credentials file"
bed_assert_eq "700" "$(stat -c '%a' "$creds")" "credentials folder"
for s in student01 student02 student03; do
  bed_assert_contains "$(cat "$f")" "$s	$p-g1-$s	http://127.0.0.1:$sport/$p-g1-$s/	${pw[$s]}" "credentials of $s"
done
ok "3 students log into their own copies, see the record, crons off, changes stay apart, credentials 0600"

# A mail a student sends from their copy (ir.email.send, the client's email
# button) goes out through the training's server: into the catcher.
s1uid=$(xoe_login "$sport" "$p-g1-student01" student01 "${pw[student01]}")
xoe_rpc "$sport" "$p-g1-student01" student01 "${pw[student01]}" model.ir.email.send \
  "[\"customer@example.org\", \"\", \"\", \"sent by student01\", \"<p>exercise</p>\", [], [\"res.user\", $s1uid], [], []]" >/dev/null
bed_wait 10 "the student's mail in the catcher" bash -c "grep -rlq 'sent by student01' '$BED_MAILDIR/new'"
ok "a mail sent from a student's copy of production is caught"

# ---------------------------------------------------------------- a group from a list
list=$BED_DIR/class.txt
printf '# class 3B\nalice\n\n  bob\n' >"$list"
r=$(X students disseminate "$p" --group g2 --list "$list" --json)
bed_assert_eq "alice bob" "$(xoe_json '" ".join(s["login"] for s in d["students"]["students"])' <<<"$r")" "logins of the list"
apw=$(xoe_json 'd["students"]["students"][0]["password"]' <<<"$r") bpw=$(xoe_json 'd["students"]["students"][1]["password"]' <<<"$r")
bed_assert_eq 1 "$(xoe_rpc "$sport" "$p-g2-alice" alice "$apw" model.res.group.search_count '[[["name", "=", "class-record"]]]')" "alice sees the record"
bed_assert_eq 1 "$(xoe_rpc "$sport" "$p-g2-bob" bob "$bpw" model.res.group.search_count '[[["name", "=", "class-record"]]]')" "bob sees the record"
bed_assert_eq 0 "$(q "$p-g2-bob" "select count(*) from res_group where name = 'exercise-01'")" "bob's copy is of the reference, not of student01's"
l=$(X students list --json)
bed_assert_eq 5 "$(xoe_json 'len(d["students"])' <<<"$l")" "students list"
bed_assert_eq False "$(xoe_json 'any("password" in s for s in d["students"])' <<<"$l")" "no password in the list"
bed_assert_eq "g2 alice reference $tr ready" "$(X students list --group g2 --json | xoe_json '" ".join(d["students"][0][k] for k in ("group","login","kind","service","state"))')" "list --group"
ok "a group from a --list file (comments and blank lines skipped)"

# ---------------------------------------------------------------- bad input: exit code, nothing changed
dbs() { q postgres "select string_agg(datname, ' ' order by datname) from pg_database"; }
before=$(dbs) rows=$(X students list --json)
expect() {
  local code=$1 part=$2 rc=0 err
  shift 2
  err=$(X "$@" 2>&1 >/dev/null) || rc=$?
  bed_assert_eq "$code" "$rc" "exit code of xoe $*"
  bed_assert_contains "$err" "$part" "message of xoe $*"
  bed_assert_eq 1 "$(grep -c . <<<"$err")" "one-line error of xoe $*"
}
expect 3 "no service nosuch" students disseminate nosuch --group g9 --students 2
expect 4 "group g1 exists already" students disseminate "$p" --group g1 --students 2
expect 2 "--students 0: between 1 and 200" students disseminate "$p" --group g9 --students 0
expect 2 "--students 201: between 1 and 200" students disseminate "$p" --group g9 --students 201
printf 'carol\n\nBad Name\n' >"$BED_DIR/bad.txt"
expect 2 "$BED_DIR/bad.txt:3: login 'Bad Name'" students disseminate "$p" --group g9 --list "$BED_DIR/bad.txt"
printf 'carol\ncarol\n' >"$BED_DIR/twice.txt"
expect 2 "$BED_DIR/twice.txt:2: login 'carol' is listed twice" students disseminate "$p" --group g9 --list "$BED_DIR/twice.txt"
expect 2 "cannot read it" students disseminate "$p" --group g9 --list "$BED_DIR/nosuch.txt"
printf 'admin\n' >"$BED_DIR/admin.txt"
expect 2 "login 'admin' is the administrator's" students disseminate "$p" --group g9 --list "$BED_DIR/admin.txt"
expect 2 "--group 'G9'" students disseminate "$p" --group G9 --students 2
expect 2 "63" students disseminate "$p" --group "$(printf 'g%.0s' {1..40})" --students 2
expect 3 "no group nosuch" students copy "$p" --group nosuch
expect 3 "no group nosuch" students remove --group nosuch
rc=0; OE_CRASH_AT=service.create:start X service create "c$XID" --software tryton --version 7.0 --db-backend postgresql >/dev/null 2>&1 || rc=$?
bed_assert_eq 137 "$rc" "a creation killed before its start"
expect 4 "service c$XID is creating" students disseminate "c$XID" --group g9 --students 2
X service remove "c$XID" >/dev/null
bed_assert_eq "$before" "$(dbs)" "no database made or dropped by the refused commands"
bed_assert_eq "$rows" "$(X students list --json)" "registry unchanged"
[[ ! -e $creds/g9.reference.credentials ]] || bed_fail "credentials of a refused group"
bed_assert_eq run "$(state "$p")" "service running after the refusals"
ok "bad input refused (exit 2/3/4, one line), nothing changed"

# ---------------------------------------------------------------- students copy: production and test
xoe_rpc "$tport" "$t" admin "$tpw" model.res.group.create '[[{"name": "test-only"}]]' >/dev/null
t0=$SECONDS
r=$(X students copy "$p" --group g2 --json)
ok "students copy (2 students, production and test) in $((SECONDS - t0)) s"
bed_assert_eq "$t" "$(xoe_json 'd["students"]["test"]' <<<"$r")" "the test service"
bed_assert_eq "alice production k$XID-g2-alice-prod $tr|alice test k$XID-g2-alice-test $t|bob production k$XID-g2-bob-prod $tr|bob test k$XID-g2-bob-test $t" \
  "$(xoe_json '"|".join(" ".join(s[k] for k in ("login","kind","database","service")) for s in sorted(d["students"]["students"], key=lambda s: (s["login"], s["kind"])))' <<<"$r")" "copies"
apw=$(xoe_json '[s["password"] for s in d["students"]["students"] if s["login"] == "alice"][0]' <<<"$r")
bed_assert_eq 1 "$(xoe_rpc "$sport" "k$XID-g2-alice-prod" alice "$apw" model.res.group.search_count '[[["name", "=", "class-record"]]]')" "production copy, on training's server"
bed_assert_eq 1 "$(xoe_rpc "$tport" "k$XID-g2-alice-test" alice "$apw" model.res.group.search_count '[[["name", "=", "test-only"]]]')" "test copy, on test's server"
bed_assert_eq "0 0" "$(q "k$XID-g2-alice-test" "select count(*) from res_group where name = 'class-record'") $(q "k$XID-g2-alice-test" "select count(*) from ir_cron where active")" "test copy: test's data, crons off"
bed_assert_eq 0 "$(q "k$XID-g2-bob-prod" "select count(*) from ir_cron where active")" "crons off in the production copy"
bed_assert_eq "600 600" "$(stat -c %a "$creds/g2.production.credentials") $(stat -c %a "$XROOT/var/lib/oe/xoe/services/$t/students/g2.test.credentials")" "credentials files"
bed_assert_eq "run run" "$(state "$p") $(state "$t")" "both running again"
# Each copy belongs to the role of the service that serves it, and PUBLIC may not connect.
bed_assert_eq "xoe-$tr|xoe-$t|f" "$(q postgres "select (select pg_get_userbyid(datdba) from pg_database where datname = 'k$XID-g2-alice-prod'), (select pg_get_userbyid(datdba) from pg_database where datname = 'k$XID-g2-alice-test'), has_database_privilege('public', 'k$XID-g2-alice-test', 'connect')")" "owners of the copies"
expect 4 "group g2 exists already" students copy "$p" --group g2
ok "students copy: each student logs into a copy of production and one of test"

# ---------------------------------------------------------------- killed runs
rc=0; OE_CRASH_AT=students.disseminate:clone X students disseminate "$p" --group g3 --students 2 >/dev/null 2>&1 || rc=$?
bed_assert_eq 137 "$rc" "killed dissemination"
bed_assert_eq "run $ppid f" "$(state "$p") $(pid "$p") $(allowconn "$p")" "the service's database drained by the killed run, its server running"
expect 4 "other students" students disseminate "$p" --group g3 --students 3
r=$(X students disseminate "$p" --group g3 --students 2 --json)
bed_assert_eq True "$(xoe_json 'd["students"]["resumed"]' <<<"$r")" "resumed"
bed_assert_eq "run t" "$(state "$p") $(allowconn "$p")" "database open after the resumed run"
for i in 0 1; do
  s=$(xoe_json "d['students']['students'][$i]['login']" <<<"$r")
  xoe_login "$sport" "$p-g3-$s" "$s" "$(xoe_json "d['students']['students'][$i]['password']" <<<"$r")" >/dev/null || bed_fail "$s after the resumed run"
done
[[ ! -e $XROOT/var/lib/oe/xoe/work/group.g3 ]] || bed_fail "work folder left"
rc=0; OE_CRASH_AT=students.disseminate:neutralise X students disseminate "$p" --group g4 --students 2 >/dev/null 2>&1 || rc=$?
bed_assert_eq 137 "$rc" "killed dissemination"
bed_assert_eq 2 "$(q postgres "select count(*) from pg_database where datname like '$p-g4-%'")" "copies of the killed run"
bed_assert_eq True "$(X students remove --group g4 --json | xoe_json 'd["removed"]["rolled_back"]')" "rolled back by remove"
bed_assert_eq "0 run t" "$(q postgres "select count(*) from pg_database where datname like '$p-g4-%'") $(state "$p") $(allowconn "$p")" "rolled back, database open"
bed_assert_eq 0 "$(X students list --group g4 --json | xoe_json 'len(d["students"])')" "no row of g4"
bed_assert_eq 1 "$(xoe_login "$pport" "$p" admin "$ppw")" "production's admin"
# students copy killed half-way (production and test both drained, by a
# restart here): the next run, with the shipped recipe, finishes it.
X students disseminate "$p" --group g5 --list "$list" >/dev/null
rc=0; OE_XOE_SOFTWARE_RECIPES=$(xoe_restart_drain) OE_CRASH_AT=students.copy:clone X students copy "$p" --group g5 >/dev/null 2>&1 || rc=$?
bed_assert_eq 137 "$rc" "killed students copy"
bed_assert_eq "down down" "$(state "$p") $(state "$t")" "both services stopped by the killed copy"
r=$(X students copy "$p" --group g5 --json)
bed_assert_eq True "$(xoe_json 'd["students"]["resumed"]' <<<"$r")" "students copy resumed"
bed_assert_eq "run run" "$(state "$p") $(state "$t")" "both running after the resumed copy"
bpw=$(xoe_json '[s["password"] for s in d["students"]["students"] if s["login"] == "bob"][0]' <<<"$r")
bed_assert_eq 1 "$(xoe_rpc "$tport" "k$XID-g5-bob-test" bob "$bpw" model.res.group.search_count '[[["name", "=", "test-only"]]]')" "bob's test copy after the resumed run"
bed_assert_eq 0 "$(q "k$XID-g5-bob-prod" "select count(*) from ir_cron where active")" "crons off in the resumed production copy"
[[ ! -e $XROOT/var/lib/oe/xoe/work/group.g5 ]] || bed_fail "work folder of g5 left"
ok "a run killed with the source drained: resumed by the next run; another rolled back by remove; a students copy killed with both servers stopped resumed"

# ---------------------------------------------------------------- remove
for g in g1 g2 g3 g5; do X students remove --group "$g" >/dev/null; done
bed_assert_eq 0 "$(q postgres "select count(*) from pg_database where datname like 'k$XID-%-g%'")" "every student database dropped"
bed_assert_eq "$(printf '%s\n' "$p" "$t" "$tr" | sort | tr '\n' ' ' | sed 's/ $//')" "$(q postgres "select string_agg(datname, ' ' order by datname) from pg_database where datname like 'k$XID-%'")" "the services' own databases stay"
bed_assert_eq 0 "$(X students list --json | xoe_json 'len(d["students"])')" "no row left"
[[ -z $(ls -A "$creds") ]] || bed_fail "credentials files left: $(ls "$creds")"
bed_assert_eq 1 "$(xoe_login "$pport" "$p" admin "$ppw")" "production after the removals"
expect 3 "no group g1" students remove --group g1
ok "students remove dropped every database, file and row of the groups"

# ---------------------------------------------------------------- SQLite
# A production without a training service has no server for its copies.
sq=l$XID-production sqt=l$XID-training
spw=$(xoe_create "$sq" 7.0 sqlite production)
expect 6 "$sq is a production service, whose server sends real mail: its students' copies are served by its training service $sqt, and there is none" \
  students disseminate "$sq" --group g5 --students 2
xoe_create "$sqt" 7.0 sqlite training >/dev/null
lport=$(X service show "$sqt" --json | xoe_json 'd["service"]["port"]')
xoe_rpc "$(X service show "$sq" --json | xoe_json 'd["service"]["port"]')" "$sq" admin "$spw" model.res.group.create '[[{"name": "class-record"}]]' >/dev/null
pid=$(X service status "$sq" --json | xoe_json 'd["service"]["pid"]')
r=$(X students disseminate "$sq" --group g5 --students 2 --json)
bed_assert_eq "$pid" "$(X service status "$sq" --json | xoe_json 'd["service"]["pid"]')" "SQLite service kept running"
data=$XROOT/var/lib/oe/xoe/services/$sqt/data
for i in 0 1; do
  s=$(xoe_json "d['students']['students'][$i]['login']" <<<"$r") spw_s=$(xoe_json "d['students']['students'][$i]['password']" <<<"$r")
  bed_assert_eq "xoe-$sqt 600" "$(stat -c '%U %a' "$data/$sq-g5-$s.sqlite")" "the copy's owner"
  bed_assert_eq 1 "$(xoe_rpc "$lport" "$sq-g5-$s" "$s" "$spw_s" model.res.group.search_count '[[["name", "=", "class-record"]]]')" "$s sees the record (SQLite)"
  bed_assert_eq 0 "$(sqlite3 "$data/$sq-g5-$s.sqlite" "select count(*) from ir_cron where active")" "crons off (SQLite)"
done
X students remove --group g5 >/dev/null
[[ -z $(ls "$data" | grep -- "-g5-") ]] || bed_fail "SQLite copies left: $(ls "$data")"
ok "SQLite: copies with the online backup API into the training's data folder, production running; students log in; removed; none without a training (6)"

# Removing a service removes the students' copies it serves.
X students disseminate "$p" --group g6 --students 2 >/dev/null
bed_assert_eq 2 "$(q postgres "select count(*) from pg_database where datname like '$p-g6-%'")" "copies of g6"
X service remove "$tr" >/dev/null
bed_assert_eq 0 "$(q postgres "select count(*) from pg_database where datname like '$p-g6-%'")" "copies after the removal of the training that served them"
bed_assert_eq 0 "$(X students list --json | xoe_json 'len(d["students"])')" "no student row after service remove"
X service remove "$p" >/dev/null
bed_assert_eq 0 "$(q postgres "select count(*) from pg_database where datname like '$p%'")" "databases after service remove"
ok "service remove drops the students' copies the service served"

! grep -rqF -e "${pw[student01]}" -e "$apw" "$XROOT/var/log" || bed_fail "a student's password is in a log"
X supervisor stop >/dev/null
ok "all in $((SECONDS - T0)) s"
