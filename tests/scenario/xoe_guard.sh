# SPDX-License-Identifier: GPL-3.0-or-later
# The guard of a Tryton server (docs/xoe.md, issue 14), for Tryton 6.0 and 7.0
# (OE_GUARD_VERSIONS="5.0 6.0 7.0" adds 5.0): two services A and B on the
# bed's PostgreSQL and one (L) on SQLite, per version.
# - Usage: a script that works through XML-RPC only (HTTP basic
#   authentication on each request, no session) moves monitor's last login,
#   on both backends; a wrong password does not; a session's request does
#   (its session row keeps the time of its login).
# - Unauthenticated callers: on A's port, /B/ (B's database: exists, not A's),
#   /nosuch/, /postgres/, /template1/ and a template's name get byte-identical
#   answers (the Date header aside) without the cluster's address or port, and
#   the cluster logs no connection to them; common.db.list, JSON-RPC and
#   XML-RPC, names no database and connects to none; A's own database works;
#   on L's port A's name gets the same answer and no file is made; a renamed
#   database is served under its new name only.
source "${OE_SOURCE_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}/tests/bed/bed.sh"
bed_init
source "$OE_SOURCE_DIR/tests/xoe/lib.sh"
bed_postgres
xoe_setup
T0=$SECONDS
PGLOG=$BED_DIR/postgres/postgres.log
# Every connection attempt logged, with the role and database it asked for.
psql -X -q -c "ALTER SYSTEM SET log_connections = on" \
  -c "ALTER SYSTEM SET log_line_prefix = '%m [%p] user=%u db=%d '" -c "SELECT pg_reload_conf()" >/dev/null

# xmlrpc PORT DB LOGIN PASSWORD: model.res.user.read of the admin through
# XML-RPC, authenticated as a script does (http://LOGIN:PASSWORD@.../DB/);
# prints its login, or the error.
xmlrpc() {
  $py - "$@" <<'PY'
import sys, xmlrpc.client
port, db, login, pw = sys.argv[1:5]
proxy = xmlrpc.client.ServerProxy(f"http://{login}:{pw}@127.0.0.1:{port}/{db}/")
try:
    print(proxy.model.res.user.read([1], ["login"], {})[0]["login"])
except xmlrpc.client.ProtocolError as e:
    print(f"refused {e.errcode}")
except xmlrpc.client.Fault as e:
    print(f"fault {e.faultString}")
PY
}

# answers PORT NAME...: for each NAME, the raw answers of the server on PORT to
# an unauthenticated JSON-RPC login on /NAME/ and an XML-RPC call with a
# guessed password there: status line, headers but Date, body (repr).
answers() {
  $py - "$@" <<'PY'
import http.client, json, sys, xmlrpc.client
port = int(sys.argv[1])
def ask(path, body, headers):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    c.request("POST", path, body=body, headers=headers)
    r = c.getresponse()
    data = r.read()
    c.close()
    head = sorted(f"{k}: {v}" for k, v in r.getheaders() if k.lower() != "date")
    return f"{r.status} {r.reason} | {' | '.join(head)} | {data!r}"
for name in sys.argv[2:]:
    login = json.dumps({"id": 1, "method": "common.db.login", "params": ["admin", {"password": "guess"}]})
    print(name, "json", ask(f"/{name}/", login, {"Content-Type": "application/json"}))
    call = xmlrpc.client.dumps(([1], ["login"], {}), "model.res.user.read")
    print(name, "xml", ask(f"/{name}/", call, {"Content-Type": "text/xml",
                                             "Authorization": "Basic YWRtaW46Z3Vlc3M="}))
PY
}

# db_list PORT: common.db.list at the root, through JSON-RPC and XML-RPC.
db_list() {
  $py - "$1" <<'PY'
import http.client, json, sys, xmlrpc.client
port = int(sys.argv[1])
for body, kind in ((json.dumps({"id": 1, "method": "common.db.list", "params": []}), "application/json"),
                   (xmlrpc.client.dumps((), "common.db.list"), "text/xml")):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    c.request("POST", "/", body=body, headers={"Content-Type": kind})
    r = c.getresponse()
    print(r.status, r.read())
PY
}

# last_login SERVICE: monitor's last login of SERVICE, in seconds since the epoch (or None).
last_login() {
  local l
  l=$(X monitor "$1" --json | xoe_json 'd["services"][0]["last_login"]')
  [[ $l == None ]] && echo None || date -u -d "$l" +%s
}

for v in ${OE_GUARD_VERSIONS:-6.0 7.0}; do
  n=${v%%.*}
  a=a$n-$XID b=b$n-$XID l=l$n-$XID
  X software fetch "tryton/$v" >/dev/null
  t0=$SECONDS
  apw=$(xoe_create "$a" "$v" postgresql production)
  bpw=$(xoe_create "$b" "$v" postgresql production)
  lpw=$(xoe_create "$l" "$v" sqlite test)
  ashow=$(X service show "$a" --json) lshow=$(X service show "$l" --json)
  aport=$(xoe_json 'd["service"]["port"]' <<<"$ashow") lport=$(xoe_json 'd["service"]["port"]' <<<"$lshow")
  bport=$(X service show "$b" --json | xoe_json 'd["service"]["port"]')
  ok "$v: $a and $b (PostgreSQL), $l (SQLite) in $((SECONDS - t0)) s"

  # ------------------------------------------------------------ usage through XML-RPC only
  for s in "$a" "$l"; do
    show=$([[ $s == "$a" ]] && echo "$ashow" || echo "$lshow")
    port=$([[ $s == "$a" ]] && echo "$aport" || echo "$lport")
    pw=$([[ $s == "$a" ]] && echo "$apw" || echo "$lpw")
    bed_assert_eq None "$(last_login "$s")" "$v $s: last login before any use"
    before=$(date -u +%s)
    sleep 1
    bed_assert_eq admin "$(xmlrpc "$port" "$s" admin "$pw")" "$v $s: XML-RPC call"
    after=$(date -u +%s)
    # The script opened no session: the session table knows nothing of it.
    bed_assert_eq 0 "$(xoe_sql "$show" "select count(*) from ir_session")" "$v $s: sessions after the XML-RPC call"
    t=$(last_login "$s")
    [[ $t != None ]] && ((before <= t && t <= after)) ||
      bed_fail "$v $s: last login $t after an XML-RPC use between $before and $after"
    # A wrong password is no use.
    sleep 2
    bed_assert_eq "refused 401" "$(xmlrpc "$port" "$s" admin "not-$pw")" "$v $s: XML-RPC with a wrong password"
    bed_assert_eq "$t" "$(last_login "$s")" "$v $s: last login after a refused XML-RPC call"
  done
  # A session's requests (the clients') count too, not only its login.
  session=$(xoe_session "$aport" "$a" admin "$apw")
  logged=$(last_login "$a")
  sleep 2
  before=$(date -u +%s)
  xoe_call "$aport" "$a" "$session" model.res.user.read '[[1], ["login"]]' >/dev/null
  t=$(last_login "$a")
  ((t >= before)) || bed_fail "$v $a: last login $t ($logged at the login) after a session's request at $before"
  ok "$v usage: an XML-RPC script's calls move the last login (PostgreSQL, SQLite), a wrong password does not, a session's request does"

  # ------------------------------------------------------------ unauthenticated callers
  tpl=$(psql -X -A -t -c "select datname from pg_database where datname like 'xoe-tpl-tryton-${v/./-}-postgresql-%' limit 1")
  [[ -n $tpl ]] || bed_fail "no template database of $v"
  nosuch=nosuch-$XID
  off=$(stat -c %s "$PGLOG")
  # One session of A's role in its own database, as the log must show it.
  PGPASSWORD=$(head -1 "$XROOT/var/lib/oe/xoe/services/$a/db-password") \
    psql -X -q -h 127.0.0.1 -p "$PGPORT" -U "xoe-$a" -d "$a" -c "select 1" >/dev/null
  out=$(answers "$aport" "$b" "$nosuch" postgres template1 "$tpl")
  lists=$(db_list "$aport")
  sleep 1   # the cluster's log written
  bed_assert_eq 10 "$(wc -l <<<"$out")" "$v answers"
  bed_assert_eq 1 "$(cut -d' ' -f3- <<<"$out" | sort -u | wc -l)" "$v: the answers for $b, $nosuch, postgres, template1, $tpl differ:
$out"
  for leak in 127.0.0.1 localhost "$PGPORT" "$PGHOST" permission exist; do
    [[ $out != *"$leak"* ]] || bed_fail "$v: '$leak' in an answer: $out"
  done
  for d in "$b" "$a" "$nosuch" "$tpl"; do
    [[ $lists != *"$d"* ]] || bed_fail "$v: common.db.list names $d: $lists"
  done
  bed_assert_eq "403 403" "$(cut -d' ' -f1 <<<"$lists" | tr '\n' ' ' | sed 's/ $//')" "$v: common.db.list refused"
  tail -c +$((off + 1)) "$PGLOG" >"$BED_DIR/pglog"
  grep -qF "user=xoe-$a db=$a " "$BED_DIR/pglog" || bed_fail "$v: the cluster's log lacks the session of $a's role: $(cat "$BED_DIR/pglog")"
  for d in "$b" "$nosuch" postgres template1 "$tpl"; do
    ! grep -qF -e "database \"$d\"" -e "user=xoe-$a db=$d " "$BED_DIR/pglog" ||
      bed_fail "$v: $a's server tried database $d: $(cat "$BED_DIR/pglog")"
  done
  # A's own database works, for its own users: and only the guess is refused, with trytond's own answer.
  bed_assert_eq admin "$(xmlrpc "$aport" "$a" admin "$apw")" "$v: XML-RPC in $a's own database"
  bed_assert_eq 1 "$(xoe_login "$aport" "$a" admin "$apw")" "$v: login in $a's own database"
  own=$(answers "$aport" "$a")
  [[ $(cut -d' ' -f3- <<<"$own" | head -1) != "$(cut -d' ' -f3- <<<"$out" | head -1)" ]] ||
    bed_fail "$v: $a's own database answers as a foreign one: $own"
  # B's own server still serves B.
  bed_assert_eq admin "$(xmlrpc "$bport" "$b" admin "$bpw")" "$v: $b on its own port"
  # The SQLite service answers the same for A's database and one that does not exist, and makes no file.
  lout=$(answers "$lport" "$a" "$nosuch")
  bed_assert_eq "$(cut -d' ' -f3- <<<"$out" | head -1)" "$(cut -d' ' -f3- <<<"$lout" | sort -u)" "$v: $l's answers"
  [[ ! -e $XROOT/var/lib/oe/xoe/services/$l/data/$nosuch.sqlite ]] || bed_fail "$v: $l made $nosuch.sqlite"
  ok "$v callers: $b, $nosuch, postgres, template1, a template: one answer, no address, no connection; no listing; own databases served"

  # ------------------------------------------------------------ a renamed database is served under its new name only
  X db rename "$l" "r$n-$XID" >/dev/null
  bed_assert_eq admin "$(xmlrpc "$lport" "r$n-$XID" admin "$lpw")" "$v: the renamed database"
  bed_assert_eq "$(cut -d' ' -f3- <<<"$out" | head -1)" "$(answers "$lport" "$l" | cut -d' ' -f3- | sort -u)" "$v: the old name"
  ok "$v rename: the new name served, the old one answered as any other"
done

X supervisor stop >/dev/null
ok "all in $((SECONDS - T0)) s"
