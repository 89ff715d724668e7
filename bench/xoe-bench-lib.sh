# SPDX-License-Identifier: GPL-3.0-or-later
# Shared by bench/xoe-*-bench.sh (source it; do not run it): the test bed
# (private PostgreSQL, root under $BED_DIR, cleanups on exit), the built
# xoe, Tryton 7.0 fetched, and helpers to start bare servers and wait for
# logins. Passwords never go on a command line: files (TRYTONPASSFILE) or
# standard input.
#   xb_setup                       bed, PostgreSQL, xoe root; exports XB_PY XB_CODE XB_SITE
#   xb_fetch [RECIPE-FOLDER]       xoe software fetch tryton/7.0 (prints its seconds)
#   xb_admin CONF DB PASSFILE ARGS...   trytond-admin -c CONF -d DB ARGS... as the recipe runs it
#   xb_conf FILE PORT DATA         a trytond.conf for the bed's PostgreSQL
#   xb_start_trytond CONF LOG      a bare trytond in the background (root); prints its pid
#   xb_wait_logins SECONDS <<< "PORT DB PASSWORD" lines: until each answers common.db.login
#   xb_requests <<< "PORT DB PASSWORD" lines: logins and a few reads in each
#   xb_steps SERVICE...            seconds of each step of their service.create jobs
#   xb_now / xb_sub T0 / xb_div A B
set -euo pipefail
XB_SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export OE_SOURCE_DIR=${OE_SOURCE_DIR:-$XB_SRC}
XB_PY=/usr/bin/python3

# The built xoe: $OE_BENCH_XOE (a path), else the newest build*/bin/xoe of
# the source tree, else the one on PATH. `xoe` (and so lib.sh's X) is a
# function calling it.
_xb_find_xoe() {
  local f
  XB_XOE=${OE_BENCH_XOE:-}
  if [[ -z $XB_XOE ]]; then
    for f in "$OE_SOURCE_DIR"/build*/bin/xoe; do
      [[ -x $f ]] || continue
      [[ -z $XB_XOE || $f -nt $XB_XOE ]] && XB_XOE=$f
    done
  fi
  [[ -n $XB_XOE ]] || XB_XOE=$(type -P xoe) || { echo "bench: no xoe built (build*/bin/xoe) nor on PATH" >&2; exit 1; }
  [[ -x $XB_XOE ]] || { echo "bench: $XB_XOE is not executable" >&2; exit 1; }
  XB_XOE=$(realpath "$XB_XOE")
  echo "bench: xoe = $XB_XOE" >&2
}
xoe() { "$XB_XOE" "$@"; }

xb_now() { echo "$EPOCHREALTIME"; }
xb_sub() { awk -v a="$EPOCHREALTIME" -v b="$1" 'BEGIN { printf "%.2f", a - b }'; }
xb_div() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }'; }

xb_setup() {
  _xb_find_xoe
  source "$OE_SOURCE_DIR/tests/bed/bed.sh"
  bed_init
  source "$OE_SOURCE_DIR/tests/xoe/lib.sh"
  bed_postgres
  xoe_setup
  bed_on_exit _xb_stop_bare
  XB_PIDS=()
}

# xb_fetch [RECIPE-FOLDER]: tryton/7.0 fetched into this bench's root (the
# .deb files come from the shared cache once downloaded).
xb_fetch() {
  [[ -z ${1:-} ]] || export OE_XOE_SOFTWARE_RECIPES=$1
  local t
  t=$(xb_now)
  X software fetch tryton/7.0 >/dev/null
  echo "bench: xoe software fetch tryton/7.0 in $(xb_sub "$t") s" >&2
  XB_CODE=$XROOT/var/lib/oe/xoe/software/tryton/7.0/root
  XB_SITE=$XROOT/var/lib/oe/xoe/software/tryton/7.0/site
  [[ -x $XB_CODE/usr/bin/trytond && -d $XB_SITE ]] || bed_fail "no fetched trytond in $XB_CODE"
  export XB_CODE XB_SITE
}

# The recipe's environment for the server and trytond-admin (docs/xoe.md:
# runit's run file uses env -i with these variables).
_xb_env() { env -i PATH=/usr/bin:/bin LC_ALL=C.UTF-8 LANG=C.UTF-8 PYTHONPATH="$XB_SITE" "$@"; }

# xb_conf FILE PORT DATA: the recipe's config with the bed's PostgreSQL.
xb_conf() {
  mkdir -p "$3"
  cat >"$1" <<EOF
[database]
uri = postgresql://postgres@127.0.0.1:$PGPORT/
path = $3

[web]
listen = 127.0.0.1:$2
EOF
}

# xb_admin CONF DB PASSFILE ARGS...: trytond-admin as the recipe's commands
# run it (the admin password read from PASSFILE through TRYTONPASSFILE).
xb_admin() {
  local conf=$1 db=$2 pf=$3
  shift 3
  _xb_env TRYTONPASSFILE="$pf" "$XB_PY" -S "$XB_CODE/usr/bin/trytond-admin" -c "$conf" -d "$db" "$@" \
    >>"$BED_DIR/trytond-admin.log" 2>&1 || { tail -n 20 "$BED_DIR/trytond-admin.log" >&2; bed_fail "trytond-admin $* failed"; }
}

# xb_passfile FILE: a new random password in FILE (0600); prints nothing.
xb_passfile() {
  (umask 077 && head -c 18 /dev/urandom | base64 | tr -d '/+=' >"$1")
}

# xb_start_trytond CONF LOG: the recipe's server argv, as root, in the
# background. Sets XB_LAST_PID (and registers it for the cleanup).
xb_start_trytond() {
  # env itself, not the _xb_env function (a subshell), so that $! is the server.
  env -i PATH=/usr/bin:/bin LC_ALL=C.UTF-8 LANG=C.UTF-8 PYTHONPATH="$XB_SITE" \
    "$XB_PY" -S "$XB_CODE/usr/bin/trytond" -c "$1" >"$2" 2>&1 &
  XB_LAST_PID=$!
  XB_PIDS+=("$XB_LAST_PID")
}

_xb_stop_bare() { ((${#XB_PIDS[@]} == 0)) || _bed_kill 10 "${XB_PIDS[@]}"; }

# xb_wait_logins SECONDS, lines "PORT DB PASSWORD" on stdin: one client per
# line, all at once, each trying common.db.login as admin every 0.1 s until
# it answers (one Python process for all, so both sides of a bench pay the
# same for the waiting). The first login of a database loads its modules
# (trytond's pool), about a second each.
read -r -d '' _XB_WAIT_PY <<'PY' || :
import json, sys, threading, time, urllib.request
limit = float(sys.argv[1])
todo = [l.split(None, 2) for l in sys.stdin.read().splitlines() if l.strip()]
deadline = time.monotonic() + limit
failed = []
def login(port, db, pw):
    req = urllib.request.Request(f"http://127.0.0.1:{port}/{db}/", method="POST",
        data=json.dumps({"id": 1, "method": "common.db.login", "params": ["admin", {"password": pw}]}).encode(),
        headers={"Content-Type": "application/json"})
    try:
        answer = json.load(urllib.request.urlopen(req, timeout=30))
    except Exception:
        return False
    return isinstance(answer.get("result"), list)
def client(port, db, pw):
    while not login(port, db, pw):
        if time.monotonic() > deadline:
            failed.append(db)
            return
        time.sleep(0.1)
threads = [threading.Thread(target=client, args=t) for t in todo]
for t in threads: t.start()
for t in threads: t.join()
if failed:
    sys.exit("no login within %s s: %s" % (limit, " ".join(failed)))
PY
xb_wait_logins() { "$XB_PY" -c "$_XB_WAIT_PY" "$1"; }

# xb_requests ROUNDS, lines "PORT DB PASSWORD" on stdin: in each database,
# ROUNDS times: a login, then a few reads in that session.
read -r -d '' _XB_REQUESTS_PY <<'PY' || :
import base64, json, sys, urllib.request
rounds = int(sys.argv[1])
todo = [l.split(None, 2) for l in sys.stdin.read().splitlines() if l.strip()]
def call(port, db, m, p, session=None):
    headers = {"Content-Type": "application/json"}
    if session:
        headers["Authorization"] = "Session " + base64.b64encode(session.encode()).decode()
    req = urllib.request.Request(f"http://127.0.0.1:{port}/{db}/", method="POST",
        data=json.dumps({"id": 1, "method": m, "params": p}).encode(), headers=headers)
    answer = json.load(urllib.request.urlopen(req, timeout=60))
    if answer.get("error"):
        sys.exit(f"{db} {m}: {answer['error']}")
    return answer["result"]
for _ in range(rounds):
    for port, db, pw in todo:
        uid, key = call(port, db, "common.db.login", ["admin", {"password": pw}])[:2]
        s = f"admin:{uid}:{key}"
        call(port, db, "model.res.user.get_preferences", [False, {}], s)
        call(port, db, "model.ir.model.search_read", [[], 0, 200, None, ["model", "name"], {}], s)
        call(port, db, "model.ir.ui.menu.search_read", [[], 0, 200, None, ["name"], {}], s)
        call(port, db, "model.res.user.search_read", [[], 0, None, None, ["name", "login"], {}], s)
PY
xb_requests() { "$XB_PY" -c "$_XB_REQUESTS_PY" "$1"; }

# xb_steps SERVICE...: seconds of each step of the services' service.create
# jobs, from xoe's job journal (summed over the services), on one line.
xb_steps() {
  local keys="" s
  for s in "$@"; do keys+="${keys:+,}'service:$s'"; done
  sqlite3 -separator ' ' "$XROOT/var/lib/oe/xoe/xoe.db" \
    "SELECT s.name, printf('%.2f', SUM(s.finished - s.started) / 1000.0) FROM job_step s JOIN job j ON j.id = s.job_id
     WHERE j.kind = 'service.create' AND j.key IN ($keys) GROUP BY s.idx, s.name ORDER BY s.idx" | paste -sd' '
}
