# SPDX-License-Identifier: GPL-3.0-or-later
# Shared set-up of the xoe scenario tests: a root under the bed, the recipes
# of the source tree, the persistent .deb cache, a port range from the bed,
# and cleanups that leave no process, user or database behind.
#   xoe_setup      [XROOT XID XOE_PORT_MIN]   after bed_init (and bed_postgres if wanted)
#   X ARGS...      xoe --root $XROOT ARGS...
#   ok MSG...      logs "ok: MSG" (a scenario's milestone)
#   xoe_create NAME VERSION BACKEND ROLE   a Tryton service; prints its admin password
#   xoe_login PORT DB LOGIN PASSWORD   JSON-RPC common.db.login; prints the user id
#   xoe_json EXPR  reads JSON on stdin, prints the Python expression EXPR of it (d)
#   xoe_expect CODE PART ARGS...       xoe ARGS exits CODE with one line on stderr holding PART
#   xoe_server_version PORT            the version the server on PORT answers (common.server.version)
#   xoe_restart_drain  prints a recipes folder (under the bed) whose Tryton 7.0 drains copies' sources
#                      by a restart, as 5.0, 6.0 and Odoo do (OE_XOE_SOFTWARE_RECIPES=... X ...)
py=/usr/bin/python3

xoe_setup() {
  XROOT=$BED_DIR/root
  mkdir -p "$XROOT"
  XID=${BED_ID,,}
  XID=${XID//[^a-z0-9]/x}
  export OE_XOE_SOFTWARE_RECIPES=$OE_SOURCE_DIR/etc/oe/recipes
  export OE_XOE_SOFTWARE_DEB_CACHE=${OE_TEST_CACHE:-/var/cache/oe-test}/debs
  # The services' ports, kept from the other beds' (scenarios run side by
  # side): a port of this range that another bed's service took while this
  # one's server was down would answer this one's probes.
  XOE_PORT_MIN=$(bed_free_port_range 41)
  export OE_XOE_SERVICES_PORT_MIN=$XOE_PORT_MIN OE_XOE_SERVICES_PORT_MAX=$((XOE_PORT_MIN + 40))
  if [[ -n ${PGPORT:-} ]]; then
    export OE_XOE_DATABASE_HOST=127.0.0.1 OE_XOE_DATABASE_PORT=$PGPORT OE_XOE_DATABASE_USER=postgres
  else
    # database.host empty: xoe's own cluster, if a test makes one, on a port of the bed's.
    OE_XOE_DATABASE_CLUSTER_PORT=$(bed_free_port)
    export OE_XOE_DATABASE_CLUSTER_PORT
  fi
  export XROOT XID
  bed_on_exit _xoe_cleanup
}

xoe_restart_drain() {
  local dir=$BED_DIR/recipes-restart-drain
  if [[ ! -d $dir ]]; then
    cp -r "$OE_SOURCE_DIR/etc/oe/recipes" "$dir"
    sed -i 's/^drain = "sessions"$/drain = "restart"/' "$dir/tryton-7.0.toml"
    grep -q '^drain = "restart"$' "$dir/tryton-7.0.toml" || bed_fail "no drain key in tryton-7.0.toml"
  fi
  echo "$dir"
}

_xoe_cleanup() {
  xoe --root "$XROOT" supervisor stop >/dev/null 2>&1
  local u
  # The root's own group (oe-xoe-HASH) stays: removing it while other beds
  # create services was followed, twice in two full runs, by a service user
  # that could not read its root's code (a freed system GID reused?).
  for u in $(getent passwd | cut -d: -f1 | grep -E "^xoe-.*$XID"); do userdel "$u" 2>/dev/null; done
  return 0
}

X() { xoe --root "$XROOT" "$@"; }

ok() { bed_log "ok: $*"; }

xoe_create() {
  local out rc=0 err log
  out=$(X service create "$1" --software tryton --version "$2" --db-backend "$3" --role "$4" --json \
    2>"$BED_DIR/create-$1.err") || rc=$?
  err=$(cat "$BED_DIR/create-$1.err")
  if ((rc != 0)); then
    # The error, and the server's last lines when it names its log.
    log=$(sed -n 's/.*(log: \(.*\))$/\1/p' <<<"$err" | tail -n 1)
    bed_fail "xoe service create $1 exited $rc: $(tail -n 1 <<<"$err")${log:+ -- its log: $(tail -n 30 "$log" 2>&1)}"
  fi
  [[ -z $err ]] || printf '%s\n' "$err" >&2
  xoe_json 'd["service"]["admin_password"]' <<<"$out"
}

xoe_expect() {
  local code=$1 part=$2 rc=0 err
  shift 2
  err=$(X "$@" 2>&1 >/dev/null) || rc=$?
  bed_assert_eq "$code" "$rc" "exit code of xoe $* ($err)"
  bed_assert_contains "$err" "$part" "message of xoe $*"
  [[ $(wc -l <<<"$err") == 1 ]] || bed_fail "more than one line for xoe $*: $err"
}

xoe_server_version() {
  $py - "$1" <<'PY'
import json, sys, urllib.request
req = urllib.request.Request(f"http://127.0.0.1:{sys.argv[1]}/", method="POST", headers={"Content-Type": "application/json"},
    data=json.dumps({"id": 0, "method": "common.server.version", "params": []}).encode())
print(json.load(urllib.request.urlopen(req, timeout=30))["result"])
PY
}

xoe_json() { $py -c "import json,sys; d=json.load(sys.stdin); print($1)"; }

xoe_login() {
  $py - "$@" <<'PY'
import json, sys, urllib.request
port, db, login, pw = sys.argv[1:5]
req = urllib.request.Request(f"http://127.0.0.1:{port}/{db}/", method="POST",
    data=json.dumps({"id": 1, "method": "common.db.login", "params": [login, {"password": pw}]}).encode(),
    headers={"Content-Type": "application/json"})
try:
    answer = json.load(urllib.request.urlopen(req, timeout=30))
except Exception as e:
    sys.exit(f"login failed: {e}")
if not isinstance(answer.get("result"), list):
    sys.exit(f"login refused: {answer}")
print(answer["result"][0])
PY
}

# xoe_rpc PORT DB LOGIN PASSWORD METHOD PARAMS-JSON: logs in through JSON-RPC,
# calls METHOD with PARAMS (the context {} is appended) in that session, and
# prints the result as JSON. xoe_session PORT DB LOGIN PASSWORD logs in and
# prints the session (LOGIN:UID:KEY); xoe_call PORT DB SESSION METHOD
# PARAMS-JSON calls METHOD in that session (as the client does, minutes later).
xoe_rpc() { _xoe_jsonrpc rpc "$@"; }
xoe_session() { _xoe_jsonrpc session "$@"; }
xoe_call() { _xoe_jsonrpc call "$@"; }
_xoe_jsonrpc() {
  $py - "$@" <<'PY'
import base64, json, sys, urllib.request
mode, port, db = sys.argv[1:4]
def call(m, p, session=None):
    headers = {"Content-Type": "application/json"}
    if session:
        headers["Authorization"] = "Session " + base64.b64encode(session.encode()).decode()
    req = urllib.request.Request(f"http://127.0.0.1:{port}/{db}/", method="POST",
        data=json.dumps({"id": 1, "method": m, "params": p}).encode(), headers=headers)
    answer = json.load(urllib.request.urlopen(req, timeout=60))
    if "error" in answer and answer["error"]:
        sys.exit(f"{m}: {answer['error']}")
    return answer["result"]
def login(name, pw):
    uid, key = call("common.db.login", [name, {"password": pw}])[:2]
    return f"{name}:{uid}:{key}"
if mode == "session":
    print(login(*sys.argv[4:6]))
elif mode == "call":
    session, method, params = sys.argv[4:7]
    print(json.dumps(call(method, json.loads(params) + [{}], session)))
else:
    name, pw, method, params = sys.argv[4:8]
    print(json.dumps(call(method, json.loads(params) + [{}], login(name, pw))))
PY
}

# xoe_sql SERVICE-JSON SQL: runs SQL in the database of the service whose
# `service show --json` is given (SQLite file or the bed's PostgreSQL); prints rows.
xoe_sql() {
  local show=$1 sql=$2 backend db name
  backend=$(xoe_json 'd["service"]["backend"]' <<<"$show")
  db=$(xoe_json 'd["service"]["database"]' <<<"$show")
  name=$(xoe_json 'd["service"]["name"]' <<<"$show")
  if [[ $backend == sqlite ]]; then
    sqlite3 "$XROOT/var/lib/oe/xoe/services/$name/data/$db.sqlite" "$sql"
  else
    psql -X -A -t -d "$db" -c "$sql"
  fi
}
