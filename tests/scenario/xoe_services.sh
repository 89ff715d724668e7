# SPDX-License-Identifier: GPL-3.0-or-later
# xoe on the real thing: Tryton 6.0 and 7.0 fetched from Debian's packages
# (.debs cached outside the repository), side by side, 7.0 on SQLite and 6.0
# on the bed's PostgreSQL, each under runit as its own user; logins through
# JSON-RPC with the generated passwords; a kill -9 restarted by runit;
# stop/start; crashes in the middle of create rolled back or resumed; remove
# leaves nothing; supervisor stop leaves no process.
source "${OE_SOURCE_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}/tests/bed/bed.sh"
bed_init
source "$OE_SOURCE_DIR/tests/xoe/lib.sh"
bed_postgres
xoe_setup

X software deps --check tryton/7.0 >/dev/null || bed_fail "the Tryton packages of this host are missing (.ci/packages.txt)"
t0=$SECONDS
X software fetch tryton/7.0 >/dev/null
X software fetch tryton/6.0 >/dev/null
ok "fetch tryton/6.0 and 7.0 in $((SECONDS - t0)) s"
bed_assert_eq "tryton/6.0 tryton/7.0" \
  "$(X software list --json | xoe_json '" ".join(s["software"]+"/"+s["version"] for s in d["software"] if s["fetched"])')" "software list"
# Each fetched version is a standard version in poe's store under the same root.
standards=$(poe --root "$XROOT" standard list --json | xoe_json '" ".join(sorted(x["ref"].rsplit(".", 1)[0] for x in d["standards"]))')
bed_assert_eq "tryton/6.0 tryton/7.0" "$standards" "poe standards after fetch"
bed_assert_eq "True" "$(X software fetch tryton/7.0 --json | xoe_json 'd["software"]["already"]')" "fetch twice"

s7=t7-$XID s6=t6-$XID
t0=$SECONDS
out7=$(X service create "$s7" --software tryton --version 7.0 --db-backend sqlite --role training --json)
ok "create $s7 (7.0, SQLite, template built) in $((SECONDS - t0)) s"
t0=$SECONDS
out6=$(X service create "$s6" --software tryton --version 6.0 --db-backend postgresql --json)
ok "create $s6 (6.0, PostgreSQL, template built) in $((SECONDS - t0)) s"
pw7=$(xoe_json 'd["service"]["admin_password"]' <<<"$out7")
pw6=$(xoe_json 'd["service"]["admin_password"]' <<<"$out6")
[[ ${#pw7} -ge 20 && $pw7 != "$pw6" ]] || bed_fail "generated passwords"
bed_assert_eq "2 $s7 training $s7 admin" \
  "$(xoe_json '" ".join(str(x) for x in (d["version"], d["service"]["name"], d["service"]["role"], d["service"]["database"], d["service"]["admin_login"]))' <<<"$out7")" "create --json"
bed_assert_eq "admin_login,admin_password,backend,database,modules,name,pid,port,resumed,role,seconds,software,state,supervisor,url,user,version" "$(xoe_json '",".join(sorted(d["service"]))' <<<"$out7")" "create --json fields"
port7=$(X service show "$s7" --json | xoe_json 'd["service"]["port"]')
port6=$(X service show "$s6" --json | xoe_json 'd["service"]["port"]')
[[ $port7 != "$port6" ]] || bed_fail "two services on one port"

bed_assert_eq 1 "$(xoe_login "$port7" "$s7" admin "$pw7")" "login 7.0"
bed_assert_eq 1 "$(xoe_login "$port6" "$s6" admin "$pw6")" "login 6.0"
xoe_login "$port7" "$s7" admin wrong-password >/dev/null 2>&1 && bed_fail "a wrong password logs in"
ok "logins with the generated passwords (7.0 on SQLite, 6.0 on PostgreSQL); a wrong one is refused"
# The admin password is written as a hash (database.password_sql): passlib's
# pbkdf2_sha512 of students.hash, where trytond-admin -p of 7.0 would have
# written scrypt; in the SQLite file by the service's user, in PostgreSQL by
# the service's role (the row and the file keep their owners).
h7=$(python3 -c 'import sqlite3, sys; print(sqlite3.connect(sys.argv[1]).execute("SELECT password_hash FROM res_user WHERE login = ?", ("admin",)).fetchone()[0])' \
  "$XROOT/var/lib/oe/xoe/services/$s7/data/$s7.sqlite")
[[ $h7 == '$pbkdf2-sha512$'* ]] || bed_fail "7.0 SQLite admin hash is not students.hash's pbkdf2_sha512: ${h7:0:16}"
bed_assert_eq "xoe-$s7" "$(stat -c %U "$XROOT/var/lib/oe/xoe/services/$s7/data/$s7.sqlite")" "owner of the SQLite file"
h6=$(psql -X -A -t -d "$s6" -c "SELECT password_hash FROM res_user WHERE login = 'admin'")
[[ $h6 == '$pbkdf2-sha512$'* ]] || bed_fail "6.0 PostgreSQL admin hash is not pbkdf2_sha512: ${h6:0:16}"
grep -rqF -- "$pw7" "$XROOT/var/log" 2>/dev/null && bed_fail "the admin password is in a log"
ok "admin passwords written as hashes (SQLite file by its user, PostgreSQL by the service's role), in no log"

# The password is kept 0600 and never lands in a log or the audit trail.
pwfile=$XROOT/var/lib/oe/xoe/services/$s7/admin-password
bed_assert_eq "600 root" "$(stat -c '%a %U' "$pwfile")" "password file"
! grep -rqF -e "$pw7" -e "$pw6" "$XROOT/var/log" || bed_fail "a password is in a log"
ok "password file 0600, no password in logs"

list=$(X service list --json)
bed_assert_eq "$s6 run,$s7 run" "$(xoe_json '",".join(s["name"]+" "+s["state"] for s in d["services"])' <<<"$list")" "service list"
bed_assert_eq "name,role,software,state,url,version" "$(xoe_json '",".join(sorted(d["services"][0]))' <<<"$list")" "list fields"
show=$(X service show "$s6" --json)
bed_assert_eq "$s6 $port6 postgresql xoe-$s6" "$(xoe_json '" ".join(str(d["service"][k]) for k in ("database","port","backend","user"))' <<<"$show")" "show"
[[ $(psql -X -A -t -c "select count(*) from pg_database where datname = '$s6'") == 1 ]] || bed_fail "no database $s6"
# Its own role owns its database and everything in it (the bed asks every role but postgres for its password).
bed_assert_eq "xoe-$s6 0" "$(psql -X -A -t -F ' ' -d "$s6" -c "select pg_get_userbyid(datdba), (select count(*) from pg_class where relnamespace = 'public'::regnamespace and relowner <> datdba) from pg_database where datname = '$s6'")" "owner of $s6 and its tables"
ok "list and show"

# runit restarts a server that dies.
pid=$(X service status "$s7" --json | xoe_json 'd["service"]["pid"]')
[[ $(stat -c %U "/proc/$pid") == "xoe-$s7" ]] || bed_fail "server not running as its own user"
kill -9 "$pid"
bed_wait 30 "runit restarting $s7" bash -c "[[ \$(xoe --root '$XROOT' service status '$s7' --json | $py -c 'import json,sys; s=json.load(sys.stdin)[\"service\"]; print(s[\"state\"], s[\"pid\"])') == 'run '* && \$(xoe --root '$XROOT' service status '$s7' --json | $py -c 'import json,sys; print(json.load(sys.stdin)[\"service\"][\"pid\"])') != $pid ]]"
bed_wait 60 "$s7 answering again" xoe_login "$port7" "$s7" admin "$pw7"
ok "kill -9: runit restarted the server, login works"

X service stop "$s7" >/dev/null
bed_assert_eq down "$(X service status "$s7" --json | xoe_json 'd["service"]["state"]')" "stopped"
xoe_login "$port7" "$s7" admin "$pw7" >/dev/null 2>&1 && bed_fail "a stopped service answers"
X service start "$s7" >/dev/null
bed_assert_eq 1 "$(xoe_login "$port7" "$s7" admin "$pw7")" "login after start"
X service restart "$s6" >/dev/null
bed_assert_eq 1 "$(xoe_login "$port6" "$s6" admin "$pw6")" "login after restart"
ok "stop, start, restart"

# Another process on a stopped service's port, answering the probe as a
# Tryton server would: start refuses (4) and leaves the service down; an
# update, whose start has no such check before, is rolled back when the
# probe's answer comes from that process rather than the service's server.
X service stop "$s7" >/dev/null
$py - "$port7" >"$BED_DIR/impostor.log" 2>&1 <<'PY' &
import http.server, sys
class Answer(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = b'{"id": 0, "result": "7.0.0"}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *args):
        pass
http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), Answer).serve_forever()
PY
impostor=$!
bed_wait 10 "the impostor on port $port7" xoe_server_version "$port7"
xoe_expect 4 "port $port7 of service $s7 is in use by another process (pid $impostor)" service start "$s7"
bed_assert_eq down "$(X service status "$s7" --json | xoe_json 'd["service"]["state"]')" "left down by the refused start"
rc=0; err=$(X service update "$s7" 2>&1 >/dev/null) || rc=$?
bed_assert_eq 4 "$rc" "update whose probe the impostor answers"
bed_assert_contains "$(tail -n 1 <<<"$err")" "update of $s7 failed and was rolled back: port $port7 of service $s7 is held by another process (pid $impostor), not by its server" "message"
bed_assert_eq down "$(X service status "$s7" --json | xoe_json 'd["service"]["state"]')" "down again after the rollback"
kill "$impostor"; wait "$impostor" 2>/dev/null || true
X service start "$s7" >/dev/null
bed_assert_eq 1 "$(xoe_login "$port7" "$s7" admin "$pw7")" "login once the port is free"
ok "a port taken by another process: start refused (4), an update answered by it rolled back"

# A crash in the middle of create: remove rolls it back and leaves nothing.
c1=c1-$XID
rc=0; OE_CRASH_AT=service.create:password X service create "$c1" --software tryton --version 6.0 --db-backend postgresql >/dev/null 2>&1 || rc=$?
bed_assert_eq 137 "$rc" "killed create"
[[ $(psql -X -A -t -c "select count(*) from pg_database where datname = '$c1'") == 1 ]] || bed_fail "the killed create had copied no database"
bed_assert_eq True "$(X service remove "$c1" --json | xoe_json 'd["removed"]["rolled_back"]')" "rollback"
[[ $(psql -X -A -t -c "select count(*) from pg_database where datname = '$c1'") == 0 ]] || bed_fail "database left after rollback"
[[ $(psql -X -A -t -c "select count(*) from pg_roles where rolname = 'xoe-$c1'") == 0 ]] || bed_fail "role left after rollback"
! id "xoe-$c1" >/dev/null 2>&1 || bed_fail "user left after rollback"
[[ ! -e $XROOT/var/lib/oe/xoe/services/$c1 && ! -e $XROOT/var/lib/oe/xoe/sv/$c1 ]] || bed_fail "files left after rollback"
rc=0; X service show "$c1" >/dev/null 2>&1 || rc=$?
bed_assert_eq 3 "$rc" "show after rollback"
ok "crash in create, then remove: rolled back, nothing left"

# A crash in the middle of create: the next create resumes it.
c2=c2-$XID
rc=0; OE_CRASH_AT=service.create:start X service create "$c2" --software tryton --version 7.0 --db-backend sqlite >/dev/null 2>&1 || rc=$?
bed_assert_eq 137 "$rc" "killed create"
out=$(X service create "$c2" --software tryton --version 7.0 --db-backend sqlite --json)
pwc=$(xoe_json 'd["service"]["admin_password"]' <<<"$out")
portc=$(X service show "$c2" --json | xoe_json 'd["service"]["port"]')
bed_assert_eq 1 "$(xoe_login "$portc" "$c2" admin "$pwc")" "login after resumed create"
ok "crash in create, then create again: resumed, login works"

# Remove: nothing left of code, database, user, config, supervisor entry, port.
rc=0; X software remove tryton/6.0 >/dev/null 2>&1 || rc=$?
bed_assert_eq 4 "$rc" "software remove while used"
for s in "$s7" "$s6" "$c2"; do
  port=$(X service show "$s" --json | xoe_json 'd["service"]["port"]')
  X service remove "$s" >/dev/null
  ! id "xoe-$s" >/dev/null 2>&1 || bed_fail "user xoe-$s left"
  [[ ! -e $XROOT/var/lib/oe/xoe/services/$s ]] || bed_fail "service folder of $s left"
  [[ ! -e $XROOT/var/lib/oe/xoe/sv/$s ]] || bed_fail "supervisor entry of $s left"
  [[ ! -e $XROOT/var/log/oe/xoe/$s ]] || bed_fail "log of $s left"
  [[ -z $(ss -Htln "sport = :$port") ]] || bed_fail "port $port of $s still listened on"
  ! pgrep -u "xoe-$s" >/dev/null 2>&1 || bed_fail "processes of $s left"
done
[[ $(psql -X -A -t -c "select count(*) from pg_database where datname = '$s6'") == 0 ]] || bed_fail "database $s6 left"
[[ $(psql -X -A -t -c "select count(*) from pg_roles where rolname = 'xoe-$s6'") == 0 ]] || bed_fail "role xoe-$s6 left"
bed_assert_eq 0 "$(X service list --json | xoe_json 'len(d["services"])')" "empty list"
ok "remove: no user, folder, supervisor entry, log, port, process or database left"

X software remove tryton/6.0 >/dev/null
bed_assert_eq False "$(X software list --json | xoe_json '[s for s in d["software"] if s["version"] == "6.0"][0]["fetched"]')" "software remove"
X supervisor stop >/dev/null
bed_assert_eq False "$(X supervisor status --json | xoe_json 'd["supervisor"]["running"]')" "supervisor stopped"
ok "software remove, supervisor stop"
