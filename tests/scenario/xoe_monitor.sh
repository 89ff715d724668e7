# SPDX-License-Identifier: GPL-3.0-or-later
# xoe monitor: two Tryton 7.0 services, one on the bed's PostgreSQL and one on
# SQLite. Both up with their probe time, plausible memory (the server's RSS)
# and database sizes; the active users as the recipe counts them follow a
# user created and one deactivated through JSON-RPC; the last login moves to
# the time of a real JSON-RPC login; a backup shows as the last backup; a
# stopped service is down (exit 1) with its database still measured and left
# unchanged; an unreachable PostgreSQL gives unknown values, not a failure;
# the Prometheus text parses and carries the same values; unknown services
# and bad arguments are refused (exit 3, 2).
source "${OE_SOURCE_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}/tests/bed/bed.sh"
bed_init
source "$OE_SOURCE_DIR/tests/xoe/lib.sh"
bed_postgres
xoe_setup
T0=$SECONDS

X software fetch tryton/7.0 >/dev/null
p=m$XID-pg s=m$XID-lite
ppw=$(xoe_create "$p" 7.0 postgresql production)
spw=$(xoe_create "$s" 7.0 sqlite test)
pshow=$(X service show "$p" --json) sshow=$(X service show "$s" --json)
pport=$(xoe_json 'd["service"]["port"]' <<<"$pshow") sport=$(xoe_json 'd["service"]["port"]' <<<"$sshow")
ok "two Tryton 7.0 services (PostgreSQL, SQLite) in $((SECONDS - T0)) s"

# m JSON NAME EXPR: EXPR of the service NAME's object (e) in monitor's JSON.
m() { $py -c "import json,sys; d=json.load(sys.stdin); e=[x for x in d['services'] if x['name']==sys.argv[1]][0]; print($2)" "$1" <<<"$3"; }
# The users the database has, counted independently of the recipe's query.
real_users() { xoe_sql "$1" "select count(*) from res_user where active and login <> 'root'"; }
rss_of() { awk '/^VmRSS:/ {print $2 * 1024}' "/proc/$1/status"; }

# ---------------------------------------------------------------- both up
t0=$SECONDS
out=$(X monitor --json)
ok "monitor --json in $((SECONDS - t0)) s"
bed_assert_eq 2 "$(xoe_json 'd["version"]' <<<"$out")" "contract version"
bed_assert_eq "$s $p" "$(xoe_json '" ".join(sorted(x["name"] for x in d["services"]))' <<<"$out")" "services listed"
bed_assert_eq "backup_age_seconds db_bytes http_ms last_backup last_login memory_bytes name role software state up users version" \
  "$(xoe_json '" ".join(sorted(d["services"][0]))' <<<"$out")" "fields"
for n in "$p" "$s"; do
  bed_assert_eq "run True" "$(m "$n" 'e["state"], e["up"]' "$out" | tr -d "(),'")" "$n state and up"
  (( $(m "$n" 'int(0 < e["http_ms"] < 5000)' "$out") )) || bed_fail "$n http_ms: $(m "$n" 'e["http_ms"]' "$out")"
  (( $(m "$n" 'int(e["memory_bytes"] > 20e6)' "$out") )) || bed_fail "$n memory: $(m "$n" 'e["memory_bytes"]' "$out")"
  (( $(m "$n" 'int(e["db_bytes"] > 0)' "$out") )) || bed_fail "$n db_bytes: $(m "$n" 'e["db_bytes"]' "$out")"
  bed_assert_eq "None None" "$(m "$n" 'e["last_backup"], e["backup_age_seconds"]' "$out" | tr -d "(),")" "$n no backup yet"
  # Nobody logged in yet: the probe (common.server.version) opens no session.
  bed_assert_eq None "$(m "$n" 'e["last_login"]' "$out")" "$n last login before any"
done
# The memory is the server's: its own RSS (one process, no worker), read by ps's source.
pid=$(X service status "$p" --json | xoe_json 'd["service"]["pid"]')
rss=$(rss_of "$pid")
(( $(m "$p" "int(0.8 * $rss < e['memory_bytes'] < 1.25 * $rss)" "$out") )) ||
  bed_fail "memory $(m "$p" 'e["memory_bytes"]' "$out") is not the server's RSS $rss"
# (autovacuum may add a page or two between the two readings)
size=$(psql -X -A -t -c "select pg_database_size('$p')")
(( $(m "$p" "int(abs(e['db_bytes'] - $size) < 0.02 * $size)" "$out") )) || bed_fail "PostgreSQL size $(m "$p" 'e["db_bytes"]' "$out"), psql says $size"
bed_assert_eq "$(stat -c %s "$XROOT/var/lib/oe/xoe/services/$s/data/$s.sqlite")" "$(m "$s" 'e["db_bytes"]' "$out")" "SQLite size"
ok "both up: probe time, memory ($(m "$p" 'e["memory_bytes"] // 2**20' "$out") MiB), database sizes"

# ---------------------------------------------------------------- users follow the database
for n in "$p" "$s"; do
  show=$([[ $n == "$p" ]] && echo "$pshow" || echo "$sshow")
  bed_assert_eq "$(real_users "$show")" "$(m "$n" 'e["users"]' "$out")" "$n users"
done
bed_assert_eq 1 "$(m "$p" 'e["users"]' "$out")" "a new database has one user, the admin"
xoe_rpc "$pport" "$p" admin "$ppw" model.res.user.create '[[{"name": "Clerk", "login": "clerk"}, {"name": "Temp", "login": "temp"}]]' >/dev/null
bed_assert_eq 3 "$(m "$p" 'e["users"]' "$(X monitor "$p" --json)")" "users after two were created"
tid=$(xoe_sql "$pshow" "select id from res_user where login = 'temp'")
xoe_rpc "$pport" "$p" admin "$ppw" model.res.user.write "[[$tid], {\"active\": false}]" >/dev/null
bed_assert_eq "$(real_users "$pshow")" "$(m "$p" 'e["users"]' "$(X monitor "$p" --json)")" "users after one was deactivated"
bed_assert_eq 2 "$(real_users "$pshow")" "active users in the database"
ok "users: 1, 3 after two were created, 2 after one was deactivated (as the database counts them)"

# The usage SQL runs read-only: a recipe whose query writes is refused on both backends.
mkdir "$BED_DIR/recipes"
sed 's/^users_sql = .*/users_sql = "UPDATE res_user SET name = name || '"'"' written'"'"' WHERE id = 1 RETURNING 1"/' \
  "$OE_SOURCE_DIR/etc/oe/recipes/tryton-7.0.toml" >"$BED_DIR/recipes/tryton-7.0.toml"
grep -q "RETURNING 1" "$BED_DIR/recipes/tryton-7.0.toml" || bed_fail "the writing recipe was not made"
out=$(OE_XOE_SOFTWARE_RECIPES=$BED_DIR/recipes X monitor --json 2>"$BED_DIR/err")
for n in "$p" "$s"; do
  show=$([[ $n == "$p" ]] && echo "$pshow" || echo "$sshow")
  bed_assert_eq "True None" "$(m "$n" 'e["up"], e["users"]' "$out" | tr -d "(),")" "$n with a writing users_sql"
  [[ $(xoe_sql "$show" "select name from res_user where id = 1") != *written* ]] || bed_fail "monitor wrote into $n"
done
bed_assert_contains "$(cat "$BED_DIR/err")" "read-only transaction" "PostgreSQL refusal"
bed_assert_contains "$(cat "$BED_DIR/err")" "readonly database" "SQLite refusal"
ok "a writing usage query is refused on both backends (users unknown, nothing written)"

# ---------------------------------------------------------------- last login
before=$(date -u +%s)
sleep 1
bed_assert_eq 1 "$(xoe_login "$sport" "$s" admin "$spw")" "SQLite login"
out=$(X monitor --json)
after=$(date -u +%s)
for n in "$p" "$s"; do
  login=$(m "$n" 'e["last_login"]' "$out")
  t=$(date -u -d "$login" +%s) || bed_fail "$n last_login is not a time: $login"
  [[ $login == *Z ]] || bed_fail "$n last_login not UTC: $login"
  # PostgreSQL's was the JSON-RPC logins of the user changes above; SQLite's the login just made.
  ((t <= after)) || bed_fail "$n last login $login is in the future"
  if [[ $n == "$s" ]]; then ((t >= before)) || bed_fail "$n last login $login is before the login ($before)"; fi
done
plogin=$(m "$p" 'e["last_login"]' "$out")
sleep 1
bed_assert_eq 1 "$(xoe_login "$pport" "$p" admin "$ppw")" "PostgreSQL login"
out=$(X monitor --json)
[[ $(m "$p" 'e["last_login"]' "$out") > $plogin ]] || bed_fail "last login of $p did not move: $plogin"
(( $(date -u +%s) - $(date -u -d "$(m "$p" 'e["last_login"]' "$out")" +%s) < 60 )) || bed_fail "last login not recent"
# Tryton forgets a login with its session (a logout, an expiry): the last
# login seen stays.
plogin=$(m "$p" 'e["last_login"]' "$out")
psql -X -q -d "$p" -c "delete from ir_session"
bed_assert_eq "" "$(psql -X -A -t -d "$p" -c "select max(create_date) from ir_session")" "the sessions forgotten"
out=$(X monitor --json "$p")
bed_assert_eq "$plogin" "$(m "$p" 'e["last_login"]' "$out")" "the last login seen, after its session is gone"
ok "last login: the time of the JSON-RPC login, UTC, on both backends; kept when the session is gone"

# ---------------------------------------------------------------- last backup
b=$(X backup "$p" --json)
archive=$(xoe_json 'd["backup"]["archive"]' <<<"$b")
stamp=$(basename "$archive" .tar.zst)
stamp=${stamp#"$p"-}
expected=$(date -u -d "${stamp:0:4}-${stamp:4:2}-${stamp:6:2}T${stamp:9:2}:${stamp:11:2}:${stamp:13:2}Z" +%Y-%m-%dT%H:%M:%SZ)
out=$(X monitor --json)
bed_assert_eq "$expected" "$(m "$p" 'e["last_backup"]' "$out")" "last backup"
(( $(m "$p" 'int(0 <= e["backup_age_seconds"] < 120)' "$out") )) || bed_fail "backup age $(m "$p" 'e["backup_age_seconds"]' "$out")"
bed_assert_eq None "$(m "$s" 'e["last_backup"]' "$out")" "no backup of $s"
ok "last backup $expected"

# ---------------------------------------------------------------- one stopped: exit 1, measured read-only
X service stop "$s" >/dev/null
sum=$(sha256sum <"$XROOT/var/lib/oe/xoe/services/$s/data/$s.sqlite")
rc=0; out=$(X monitor --json) || rc=$?
bed_assert_eq 1 "$rc" "exit code with a service down"
bed_assert_eq "down False None None" "$(m "$s" 'e["state"], e["up"], e["http_ms"], e["memory_bytes"]' "$out" | tr -d "(),'")" "$s stopped"
bed_assert_eq "$(real_users "$sshow")" "$(m "$s" 'e["users"]' "$out")" "users of the stopped SQLite service"
(( $(m "$s" 'int(e["db_bytes"] > 0)' "$out") )) || bed_fail "db_bytes of the stopped service"
bed_assert_eq True "$(m "$p" 'e["up"]' "$out")" "$p still up"
bed_assert_eq "$sum" "$(sha256sum <"$XROOT/var/lib/oe/xoe/services/$s/data/$s.sqlite")" "SQLite file unchanged by monitor"
rc=0; X monitor "$p" --json >/dev/null || rc=$?
bed_assert_eq 0 "$rc" "exit code of monitor of the service that is up"
rc=0; table=$(X monitor) || rc=$?
bed_assert_eq 1 "$rc" "exit code of the table"
bed_assert_contains "$(grep -F "$s" <<<"$table")" "down" "table row of $s"
bed_assert_contains "$(head -n1 <<<"$table")" "LAST LOGIN" "table header"
ok "a stopped service: up false, exit 1, its database measured and unchanged"

# ---------------------------------------------------------------- PostgreSQL unreachable
rc=0; out=$(OE_XOE_DATABASE_PORT=$(bed_free_port) X monitor --json 2>"$BED_DIR/err") || rc=$?
bed_assert_eq 1 "$rc" "exit code with PostgreSQL unreachable (and $s down)"
bed_assert_eq "True None None" "$(m "$p" 'e["up"], e["db_bytes"], e["users"]' "$out" | tr -d "(),")" "$p with its database unreachable"
bed_assert_eq "$(real_users "$sshow")" "$(m "$s" 'e["users"]' "$out")" "SQLite unaffected"
bed_assert_contains "$(cat "$BED_DIR/err")" "does not answer" "warning"
ok "PostgreSQL unreachable: unknown sizes and users, a warning, no failure"

# ---------------------------------------------------------------- Prometheus
rc=0; prom=$(X monitor --prometheus) || rc=$?
bed_assert_eq 1 "$rc" "exit code of --prometheus"
printf '%s\n' "$prom" >"$BED_DIR/metrics"
$py - "$p" "$s" "$BED_DIR/metrics" <<'PY' || bed_fail "Prometheus text: $prom"
import re, sys
p, s, metrics = sys.argv[1:4]
sample = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)\{((?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\[\\"n])*",?)*)\} (\S+)$')
values, typed = {}, set()
for line in open(metrics).read().splitlines():
    if line.startswith("# HELP "):
        continue
    if line.startswith("# TYPE "):
        name, kind = line.split()[2:4]
        assert kind == "gauge", line
        typed.add(name)
        continue
    m = sample.match(line)
    assert m, f"not a sample: {line!r}"
    name, labels, value = m.groups()
    assert name in typed, f"no TYPE before {name}"
    labels = dict(re.findall(r'([a-zA-Z_]+)="((?:[^"\\]|\\.)*)"', labels))
    assert set(labels) == {"service", "software", "version", "role"}, labels
    assert (labels["software"], labels["version"]) == ("tryton", "7.0"), labels
    values[(name, labels["service"], labels["role"])] = float(value)
assert values[("xoe_service_up", p, "production")] == 1, values
assert values[("xoe_service_up", s, "test")] == 0, values
assert 0 < values[("xoe_service_http_seconds", p, "production")] < 5
assert ("xoe_service_http_seconds", s, "test") not in values
assert values[("xoe_service_memory_bytes", p, "production")] > 20e6
assert ("xoe_service_memory_bytes", s, "test") not in values
assert values[("xoe_service_database_bytes", s, "test")] > 0
assert values[("xoe_service_users", p, "production")] == 2
assert values[("xoe_service_last_backup_timestamp_seconds", p, "production")] > 1.7e9
assert ("xoe_service_last_backup_timestamp_seconds", s, "test") not in values
assert values[("xoe_service_last_login_timestamp_seconds", s, "test")] > 1.7e9
PY
ok "--prometheus parses: HELP/TYPE, escaped labels, the same values, unknown ones left out"

# ---------------------------------------------------------------- refusals
expect() {
  local code=$1 part=$2 rc=0 err out
  shift 2
  out=$(X "$@" 2>"$BED_DIR/err") || rc=$?
  err=$(cat "$BED_DIR/err")
  bed_assert_eq "$code" "$rc" "exit code of xoe $*"
  bed_assert_contains "$err" "$part" "message of xoe $*"
  if [[ " $* " == *" --json "* ]]; then
    # With --json, the error answer on stdout: the kind of the exit code, the message of stderr's line.
    local kind=invalid
    [[ $code == 3 ]] && kind=not_found
    bed_assert_eq "2 $kind" "$(xoe_json '"%s %s" % (d["version"], d["error"]["kind"])' <<<"$out")" "error answer of xoe $*"
    bed_assert_eq "xoe: $(xoe_json 'd["error"]["message"]' <<<"$out")" "$err" "the error answer's message of xoe $*"
  else
    bed_assert_eq "" "$out" "stdout of xoe $*"
  fi
}
expect 3 "no service nosuch" monitor "$p" nosuch --json
expect 2 "service name" monitor "Bad Name"
expect 2 "exclude each other" monitor --json --prometheus
expect 2 "exclude each other" --json monitor "$p" --prometheus
rc=0; X --monitor "$p" --json >/dev/null || rc=$?
bed_assert_eq 0 "$rc" "the seed's --monitor"
ok "unknown service (3), bad name and --json with --prometheus (2), the seed's --monitor"

X supervisor stop >/dev/null
ok "all in $((SECONDS - T0)) s"
