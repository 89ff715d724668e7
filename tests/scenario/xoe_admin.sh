# SPDX-License-Identifier: GPL-3.0-or-later
# xoe's administrative commands on the real thing: Tryton 7.0 on the bed's
# PostgreSQL and on SQLite. service logs (last lines, --json, --follow across
# svlogd's rotation); service config set/unset/show (the port moved: login
# on the new one, the old one free; settings read by trytond and kept by a
# restore that re-renders the config; a killed change finished by the next
# run); db rename (login with the new name; refused while another session
# holds the database, everything put back); db drop (backup first, start
# refused) and db create (a fresh database, the same admin password);
# service remove --archive (nothing left, the archive restores). Bad input:
# documented exit codes, one line, nothing changed.
source "${OE_SOURCE_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}/tests/bed/bed.sh"
bed_init
source "$OE_SOURCE_DIR/tests/xoe/lib.sh"
bed_postgres
xoe_setup
T0=$SECONDS

X software fetch tryton/7.0 >/dev/null
sp=ap-$XID sq=aq-$XID
ppw=$(X service create "$sp" --software tryton --version 7.0 --db-backend postgresql --json | xoe_json 'd["service"]["admin_password"]')
qpw=$(X service create "$sq" --software tryton --version 7.0 --db-backend sqlite --role training --json | xoe_json 'd["service"]["admin_password"]')
pport=$(X service show "$sp" --json | xoe_json 'd["service"]["port"]')
qport=$(X service show "$sq" --json | xoe_json 'd["service"]["port"]')
qconf=$XROOT/var/lib/oe/xoe/services/$sq/trytond.conf
qlog=$XROOT/var/log/oe/xoe/$sq
ok "services $sp (PostgreSQL) and $sq (SQLite, training) in $((SECONDS - T0)) s"

# expect CODE MESSAGE-PART ARGS...: exit code, one line on stderr (tests/xoe/lib.sh).
expect() { xoe_expect "$@"; }
pid_of() { X service status "$1" --json | xoe_json 'd["service"]["pid"]'; }
# The state a refused command must leave as it was.
state() {
  X service list --json
  X db list --json | xoe_json '[(x["service"], x["database"]) for x in d["databases"]]'
  X service config show "$sp" --json; X service config show "$sq" --json
  md5sum "$qconf" "$XROOT/var/lib/oe/xoe/services/$sp/trytond.conf"
  ls "$XROOT/var/lib/oe/xoe/services/$sq/data" "$BED_DIR"
  psql -X -A -t -c "select datname from pg_database order by 1"
  pid_of "$sp"; pid_of "$sq"
}

# ---------------------------------------------------------------- logs
# The server's start is in its log: trytond logs the config file it reads.
bed_wait 30 "the startup line in $sq's log" grep -q "using $qconf as configuration file" "$qlog/current"
logs=$(X service logs "$sq" --json)
bed_assert_eq "2 $sq $qlog/current" "$(xoe_json '"%s %s %s" % (d["version"], d["logs"]["service"], d["logs"]["file"])' <<<"$logs")" "logs --json"
bed_assert_contains "$(xoe_json '"\n".join(l["text"] for l in d["logs"]["lines"])' <<<"$logs")" "using $qconf as configuration file" "startup line"
bed_assert_eq True "$(xoe_json 'all(l["time"] and l["time"].endswith("Z") for l in d["logs"]["lines"])' <<<"$logs")" "every line stamped"
n=$(wc -l <"$qlog/current")
((n >= 3)) || bed_fail "only $n lines in the log"
bed_assert_eq "$(tail -n 3 "$qlog/current")" "$(X service logs "$sq" --lines 3)" "--lines 3"
bed_assert_eq "$(tail -n 100 "$qlog/current")" "$(X service logs "$sq")" "100 lines by default"
expect 2 "--follow cannot be combined with --json" service logs "$sq" --follow --json
expect 2 "--lines" service logs "$sq" --lines -1
expect 3 "no service nosuch" service logs nosuch
# --follow: new lines, across a rotation (svlogd renames current to @....s on ALRM).
xoe --root "$XROOT" service logs "$sq" --follow --lines 0 >"$BED_DIR/follow.out" 2>/dev/null &
follower=$!
sleep 0.5
X service restart "$sq" >/dev/null
bed_wait 30 "the restart in the followed log" grep -q "using $qconf" "$BED_DIR/follow.out"
sv alarm "$XROOT/var/lib/oe/xoe/sv/$sq/log" >/dev/null
bed_wait 10 "svlogd's rotation" bash -c "ls '$qlog' | grep -q '^@.*\.s$'"
X service restart "$sq" >/dev/null
bed_wait 30 "the second restart in the followed log" bash -c "[[ \$(grep -c 'using $qconf' '$BED_DIR/follow.out') == 2 ]]"
kill "$follower"
wait "$follower" 2>/dev/null || true
[[ $(grep -c "using $qconf" "$qlog/current") == 1 ]] || bed_fail "the log was not rotated"
# Started three times (create, two restarts); the first two are in the rotated file.
bed_assert_eq 3 "$(X service logs "$sq" --lines 100000 | grep -c "using $qconf")" "logs across the rotated file"
ok "service logs: last lines, --json with times, --follow across svlogd's rotation"

# ---------------------------------------------------------------- config: refusals change nothing
before=$(state)
show=$(X service config show "$sq" --json)
bed_assert_eq "email_from:default login_max_attempts:default password_min_length:default port:assigned session_timeout:default" \
  "$(xoe_json '" ".join(e["key"] + ":" + e["origin"] for e in d["config"]["settings"])' <<<"$show")" "config show"
expect 2 "unknown key 'workers' for tryton services (keys: email_from, login_max_attempts, password_min_length, port, session_timeout)" \
  service config set "$sq" workers=2
expect 2 "unknown key 'modules'" service config set "$sq" session_timeout=600 modules=sale
expect 2 "session_timeout '5': a whole number from 60 to 86400" service config set "$sq" session_timeout=5
expect 2 "email_from 'not-an-address'" service config set "$sq" email_from=not-an-address
expect 2 "port '80': below 1024" service config set "$sq" port=80
expect 2 "KEY=VALUE" service config set "$sq" session_timeout
expect 2 "session_timeout is given twice" service config set "$sq" session_timeout=600 session_timeout=700
expect 2 "port cannot be unset" service config unset "$sq" port
expect 4 "port $pport is given to another service ($sp)" service config set "$sq" port="$pport" session_timeout=600
expect 4 "port $PGPORT is in use" service config set "$sq" port="$PGPORT"
expect 3 "no service nosuch" service config show nosuch
expect 3 "no service nosuch" service config set nosuch session_timeout=600
bed_assert_eq "$before" "$(state)" "state after the refused config changes"
ok "config set: unknown key (2, with the keys), bad values (2), port taken or in use (4): nothing changed"

# ---------------------------------------------------------------- config: the port moves the service
newport=$(bed_free_port)
t0=$SECONDS
r=$(X service config set "$sq" port="$newport" session_timeout=600 email_from=erp@example.org --json)
ok "config set port, session_timeout, email_from in $((SECONDS - t0)) s"
bed_assert_eq "2 email_from,port,session_timeout True" \
  "$(xoe_json '"%s %s %s" % (d["version"], ",".join(sorted(d["config"]["changed"])), d["config"]["restarted"])' <<<"$r")" "config set --json"
bed_assert_eq "$newport" "$(X service show "$sq" --json | xoe_json 'd["service"]["port"]')" "registry port"
bed_assert_eq 1 "$(xoe_login "$newport" "$sq" admin "$qpw")" "login on the new port"
[[ -z $(ss -Htln "sport = :$qport") ]] || bed_fail "the old port $qport is still listened on"
xoe_login "$qport" "$sq" admin "$qpw" >/dev/null 2>&1 && bed_fail "the old port answers"
trytond_conf() {  # what trytond reads from a config file: SECTION OPTION...
  PYTHONPATH=$XROOT/var/lib/oe/xoe/software/tryton/7.0/site /usr/bin/python3 -S - "$@" <<'PY'
import sys
from trytond.config import config
config.update_etc(sys.argv[1])
print(" ".join(str(config.get(s, o)) for s, o in zip(sys.argv[2::2], sys.argv[3::2])))
PY
}
bed_assert_eq "127.0.0.1:$newport 600 erp@example.org" "$(trytond_conf "$qconf" web listen session timeout email from)" "trytond reads"
bed_assert_eq "port:set session_timeout:set email_from:set login_max_attempts:default" \
  "$(X service config show "$sq" --json | xoe_json '" ".join(e["key"] + ":" + e["origin"] for k in ("port","session_timeout","email_from","login_max_attempts") for e in d["config"]["settings"] if e["key"] == k)')" "origins"
pid=$(pid_of "$sq")
bed_assert_eq "" "$(X service config set "$sq" session_timeout=600 --json | xoe_json '",".join(d["config"]["changed"])')" "the same value again"
bed_assert_eq "$pid" "$(pid_of "$sq")" "no restart for no change"
X service config unset "$sq" email_from >/dev/null
# Unset, the sender is xoe's mail.from again (default noreply@HOSTNAME), never none.
bed_assert_eq "noreply@$(hostname)" "$(trytond_conf "$qconf" email from)" "the sender after unset"
[[ $(pid_of "$sq") != "$pid" ]] || bed_fail "not restarted after unset"
bed_assert_eq 1 "$(xoe_login "$newport" "$sq" admin "$qpw")" "login after unset"
ok "config set: moved to port $newport (login there, the old port free), trytond reads the settings; unset"

# A stopped service stays stopped.
X service stop "$sp" >/dev/null
bed_assert_eq "login_max_attempts False" "$(X service config set "$sp" login_max_attempts=3 --json | xoe_json '"%s %s" % (",".join(d["config"]["changed"]), d["config"]["restarted"])')" "stopped: not restarted"
bed_assert_eq down "$(X service status "$sp" --json | xoe_json 'd["service"]["state"]')" "still stopped"
X service start "$sp" >/dev/null
bed_assert_eq 3 "$(trytond_conf "$XROOT/var/lib/oe/xoe/services/$sp/trytond.conf" session max_attempt)" "max_attempt"
ok "config set on a stopped service: written, not started"

# Killed with the service stopped: the next run of the same request finishes it, another is refused.
p2=$(bed_free_port)
rc=0; OE_CRASH_AT=service.config:start X service config set "$sq" port="$p2" >/dev/null 2>&1 || rc=$?
bed_assert_eq 137 "$rc" "killed config set"
bed_assert_eq down "$(X service status "$sq" --json | xoe_json 'd["service"]["state"]')" "stopped by the killed run"
expect 4 "an unfinished service.config of $sq with another request" service config set "$sq" session_timeout=900
expect 4 "an unfinished service.config of $sq exists" db rename "$sq" other-$XID
X service config set "$sq" port="$p2" >/dev/null
bed_assert_eq 1 "$(xoe_login "$p2" "$sq" admin "$qpw")" "login after the resumed change"
[[ ! -e $XROOT/var/lib/oe/xoe/services/$sq/admin-job.json ]] || bed_fail "memo left"
ok "config set killed before the start: finished by the next run; another request refused (4)"

# The settings survive a restore, which re-renders the config of this training service (neutralised).
X service config set "$sq" email_from=erp@example.org >/dev/null
a=$(X backup "$sq" --json | xoe_json 'd["backup"]["archive"]')
X restore "$sq" "$a" >/dev/null
bed_assert_eq "127.0.0.1:$p2 600 erp@example.org smtp://127.0.0.1:1" \
  "$(trytond_conf "$qconf" web listen session timeout email from email uri)" "settings after the restore"
bed_assert_eq 1 "$(grep -c '^\[email\]' "$qconf")" "one [email] section"
bed_assert_eq 1 "$(xoe_login "$p2" "$sq" admin "$qpw")" "login after the restore"
ok "settings kept by a restore that re-renders the config (with the neutralisation's mail catcher)"
qport=$p2

# ---------------------------------------------------------------- db rename
xoe_rpc "$pport" "$sp" admin "$ppw" model.res.group.create '[[{"name": "before-rename"}]]' >/dev/null
before=$(state)
expect 2 "database name 'Bad_Name'" db rename "$sp" Bad_Name
expect 2 "names starting with xoe- are xoe's own" db rename "$sp" xoe-mine
expect 2 "is called $sp already" db rename "$sp" "$sp"
expect 4 "service $sq has a database called $sq" db rename "$sp" "$sq"
expect 4 "PostgreSQL database postgres exists already" db rename "$sp" postgres
expect 3 "no service nosuch" db rename nosuch x
# Another session on the database: ALTER DATABASE refuses; the service runs again with its database.
psql -X -q -d "$sp" -c "select pg_sleep(60)" >/dev/null 2>&1 &
holder=$!
bed_wait 10 "a session on $sp" bash -c "[[ \$(psql -X -A -t -c \"select count(*) from pg_stat_activity where datname = '$sp' and query like '%pg_sleep%'\") == 1 ]]"
rc=0; err=$(X db rename "$sp" "n-$XID" 2>&1 >/dev/null) || rc=$?
psql -X -q -c "select pg_terminate_backend(pid) from pg_stat_activity where datname = '$sp' and query like '%pg_sleep%'" >/dev/null
wait "$holder" 2>/dev/null || true
bed_assert_eq 4 "$rc" "rename while another session holds the database"
bed_assert_contains "$(tail -n1 <<<"$err")" "database $sp is in use by another session" "message"
bed_assert_eq 1 "$(xoe_login "$pport" "$sp" admin "$ppw")" "login after the refused rename"
state_after=$(state)
bed_assert_eq "$(grep -v '^[0-9]*$' <<<"$before")" "$(grep -v '^[0-9]*$' <<<"$state_after")" "state after the refused renames (pids aside)"
ok "db rename refused: bad names (2), names taken (4), in use (4, rolled back, login works)"

t0=$SECONDS
r=$(X db rename "$sp" "n-$XID" --json)
ok "db rename on PostgreSQL in $((SECONDS - t0)) s"
bed_assert_eq "$sp n-$XID True" "$(xoe_json '"%s %s %s" % (d["rename"]["old_database"], d["rename"]["database"], d["rename"]["restarted"])' <<<"$r")" "rename --json"
bed_assert_eq 1 "$(xoe_login "$pport" "n-$XID" admin "$ppw")" "login with the new database name"
xoe_login "$pport" "$sp" admin "$ppw" >/dev/null 2>&1 && bed_fail "login with the old database name"
bed_assert_eq "0 1" "$(psql -X -A -t -c "select count(*) filter (where datname = '$sp'), count(*) filter (where datname = 'n-$XID') from pg_database" | tr '|' ' ')" "PostgreSQL databases"
pshow=$(X service show "$sp" --json)
bed_assert_eq "n-$XID" "$(xoe_json 'd["service"]["database"]' <<<"$pshow")" "registry"
bed_assert_eq 1 "$(xoe_sql "$pshow" "select count(*) from res_group where name = 'before-rename'")" "the data followed"
mkdir -p "$XROOT/var/lib/oe/xoe/services/$sq/data/$sq/aa" && echo attachment >"$XROOT/var/lib/oe/xoe/services/$sq/data/$sq/aa/f"
X db rename "$sq" "m-$XID" >/dev/null
bed_assert_eq 1 "$(xoe_login "$qport" "m-$XID" admin "$qpw")" "SQLite: login with the new database name"
ls "$XROOT/var/lib/oe/xoe/services/$sq/data/m-$XID.sqlite" >/dev/null
[[ ! -e $XROOT/var/lib/oe/xoe/services/$sq/data/$sq.sqlite ]] || bed_fail "the old SQLite file is left"
bed_assert_eq attachment "$(cat "$XROOT/var/lib/oe/xoe/services/$sq/data/m-$XID/aa/f")" "attachments follow"
ok "db rename: PostgreSQL and SQLite, logins with the new names, data and attachments followed"

# ---------------------------------------------------------------- db drop, db create
pshow=$(X service show "$sp" --json)
t0=$SECONDS
r=$(X db drop "$sp" --json)
ok "db drop (with its backup) in $((SECONDS - t0)) s"
arch=$(xoe_json 'd["drop"]["archive"]' <<<"$r")
[[ -f $arch && -f $arch.sha256 ]] || bed_fail "no backup before the drop: $arch"
bed_assert_eq 0 "$(psql -X -A -t -c "select count(*) from pg_database where datname = 'n-$XID'")" "database dropped"
bed_assert_eq dropped "$(X service show "$sp" --json | xoe_json 'd["service"]["state"]')" "state"
expect 4 "service $sp has no database (xoe db drop): xoe db create $sp makes a new one" service start "$sp"
expect 4 "the database of $sp was dropped already" db drop "$sp"
expect 4 "service $sp is dropped" backup "$sp"
[[ -z $(ss -Htln "sport = :$pport") ]] || bed_fail "a dropped service listens"
t0=$SECONDS
r=$(X db create "$sp" --json)
ok "db create in $((SECONDS - t0)) s"
bed_assert_eq "n-$XID postgresql" "$(xoe_json '"%s %s" % (d["create"]["database"], d["create"]["backend"])' <<<"$r")" "create --json"
bed_assert_eq 1 "$(xoe_login "$pport" "n-$XID" admin "$ppw")" "login into the fresh database with the service's password"
bed_assert_eq 0 "$(xoe_sql "$pshow" "select count(*) from res_group where name = 'before-rename'")" "a fresh database"
expect 4 "service $sp has its database n-$XID: xoe db drop $sp first" db create "$sp"
# The backup made by the drop holds the old data.
bed_assert_eq "n-$XID" "$(tar --zstd -xOf "$arch" metadata.json | xoe_json 'd["database"]')" "the drop's backup"
r=$(X db drop "$sq" --no-backup --json)
bed_assert_eq None "$(xoe_json 'd["drop"]["archive"]' <<<"$r")" "--no-backup"
[[ ! -e $XROOT/var/lib/oe/xoe/services/$sq/data/m-$XID.sqlite && ! -e $XROOT/var/lib/oe/xoe/services/$sq/data/m-$XID ]] || bed_fail "SQLite file or attachments left"
X db create "$sq" >/dev/null
bed_assert_eq 1 "$(xoe_login "$qport" "m-$XID" admin "$qpw")" "SQLite: login into the fresh database"
ok "db drop (backup first, start refused) and db create (fresh, same password) on PostgreSQL and SQLite"

# ---------------------------------------------------------------- remove --archive
xoe_rpc "$pport" "n-$XID" admin "$ppw" model.res.group.create '[[{"name": "kept-in-archive"}]]' >/dev/null
before=$(state)
expect 2 "--archive '/nonexistent': not a folder" service remove "$sp" --archive /nonexistent
touch "$BED_DIR/afile"
expect 2 "--archive '$BED_DIR/afile': not a folder" service remove "$sp" --archive "$BED_DIR/afile"
# A backup that fails (its folder cannot be made): exit 5, nothing removed.
rc=0; err=$(OE_XOE_BACKUP_DIR=$BED_DIR/afile/backups X service remove "$sp" --archive "$BED_DIR" 2>&1 >/dev/null) || rc=$?
bed_assert_eq 5 "$rc" "remove --archive whose backup fails"
# The last line is the error (the lines before it are the backup job's log of its rollback).
bed_assert_contains "$(tail -n1 <<<"$err")" "xoe: the final backup of $sp failed, nothing removed: cannot create" "message"
rm "$BED_DIR/afile"
bed_assert_eq "$before" "$(state)" "state after the refused removals"
bed_assert_eq 1 "$(xoe_login "$pport" "n-$XID" admin "$ppw")" "login after the refused removals"
mkdir "$BED_DIR/archive"
user=$(X service show "$sp" --json | xoe_json 'd["service"]["user"]')
r=$(X service remove "$sp" --archive "$BED_DIR/archive" --json)
a=$(xoe_json 'd["removed"]["archive"]' <<<"$r")
[[ $a == "$BED_DIR/archive/$sp-"*Z.tar.zst ]] || bed_fail "archive path $a"
(cd "$BED_DIR/archive" && sha256sum -c --quiet "${a##*/}.sha256") || bed_fail "the archive's sha256"
bed_assert_eq "$(xoe_json 'd["removed"]["sha256"]' <<<"$r")" "$(sha256sum "$a" | cut -d' ' -f1)" "sha256 --json"
# Nothing left: code and files, databases, user, config, supervisor entry, port, log, registry.
[[ ! -e $XROOT/var/lib/oe/xoe/services/$sp ]] || bed_fail "service folder (code, config, data) left"
bed_assert_eq 0 "$(psql -X -A -t -c "select count(*) from pg_database where datname in ('$sp', 'n-$XID')")" "databases left"
! id "$user" >/dev/null 2>&1 || bed_fail "user $user left"
[[ ! -e $XROOT/var/lib/oe/xoe/sv/$sp ]] || bed_fail "supervisor entry left"
[[ -z $(ss -Htln "sport = :$pport") ]] || bed_fail "port $pport still listened on"
[[ ! -e $XROOT/var/log/oe/xoe/$sp ]] || bed_fail "log left"
! pgrep -u "$user" >/dev/null 2>&1 || bed_fail "processes left"
bed_assert_eq "0 0" "$(sqlite3 "$XROOT/var/lib/oe/xoe/xoe.db" "select (select count(*) from services where name = '$sp'), (select count(*) from service_settings where service = '$sp')" | tr '|' ' ')" "registry rows left"
expect 3 "no service $sp" service show "$sp"
ok "service remove --archive: the archive kept, nothing of the service left"
r=$(X restore "r-$XID" "$a" --json)
rshow=$(X service show "r-$XID" --json)
bed_assert_eq 1 "$(xoe_login "$(xoe_json 'd["service"]["port"]' <<<"$rshow")" "r-$XID" admin "$(xoe_json 'd["restore"]["admin_password"]' <<<"$r")")" "login into the restored archive"
bed_assert_eq 1 "$(xoe_sql "$rshow" "select count(*) from res_group where name = 'kept-in-archive'")" "the data is in the archive"
ok "the archive restores into a new service: login, data there"

! grep -rqF -e "$ppw" -e "$qpw" "$XROOT/var/log" || bed_fail "a password is in a log"
X supervisor stop >/dev/null
ok "all in $((SECONDS - T0)) s"
