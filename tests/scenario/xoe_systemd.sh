# SPDX-License-Identifier: GPL-3.0-or-later
# xoe under a real systemd: a container whose PID 1 is Debian's systemd
# (bed_systemd: the host's / through an overlay, none of the host's units),
# xoe run inside it with supervisor.kind auto. A Tryton 7.0 service on
# SQLite becomes a unit xoe wrote (User=, the argv, Restart=on-failure, the
# log file `service logs` reads); it answers its JSON-RPC login; systemctl
# shows it active and enabled; a kill -9 of its main process is restarted by
# systemd (a new PID that answers); stop, start, restart and status through
# xoe agree with systemctl; supervisor stop and start; remove leaves no unit
# file, no unit, no user and no process. On the host (no systemd as PID 1),
# supervisor.kind systemd is refused.
source "${OE_SOURCE_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}/tests/bed/bed.sh"
bed_init
source "$OE_SOURCE_DIR/tests/xoe/lib.sh"
xoe_setup
ok() { bed_log "ok: $*"; }
T0=$SECONDS

# The host: runit (no systemd as PID 1); asking for systemd is refused.
bed_assert_eq runit "$(X supervisor status --json | xoe_json 'd["supervisor"]["kind"]')" "kind on the host"
xoe_expect 6 "systemd is not PID 1" --set supervisor.kind=systemd supervisor status
X software fetch tryton/7.0 >/dev/null  # on the host: the .deb cache stays outside the container
# A second root on the same host: its units must not meet the first one's.
XROOT2=$BED_DIR/root2
mkdir -p "$XROOT2"
xoe --root "$XROOT2" software fetch tryton/7.0 >/dev/null
ok "host: runit, supervisor.kind=systemd refused (6); tryton/7.0 fetched"

bed_systemd "$OE_BUILD_DIR" "$OE_SOURCE_DIR"
C() { bed_systemd_exec "$@"; }
XS() { bed_systemd_exec xoe --root "$XROOT" "$@"; }
# JSON-RPC from inside the container (its own network namespace).
py="bed_systemd_exec /usr/bin/python3"
sd_show() { C systemctl show -p "$2" --value "$1"; }

st=$(XS supervisor status --json)
bed_assert_eq "systemd True 1 /etc/systemd/system" \
  "$(xoe_json '" ".join(str(d["supervisor"][k]) for k in ("kind", "running", "pid", "scan_dir"))' <<<"$st")" \
  "supervisor status in the container"
ok "container: systemd is PID 1, xoe picks it (auto)"

s=sd-$XID
t0=$SECONDS
out=$(XS service create "$s" --software tryton --version 7.0 --db-backend sqlite --json)
pw=$(xoe_json 'd["service"]["admin_password"]' <<<"$out")
port=$(XS service show "$s" --json | xoe_json 'd["service"]["port"]')
ok "create $s (7.0, SQLite) under systemd in $((SECONDS - t0)) s"

# The unit: its name carries the root's hash (the root is not /); xoe wrote it.
mapfile -t units < <(C find /etc/systemd/system -maxdepth 1 -name "xoe_*_$s.service" -printf '%f\n')
bed_assert_eq 1 "${#units[@]}" "unit files of $s"
unit=${units[0]}
[[ $unit =~ ^xoe_[0-9a-f]{16}_$s\.service$ ]] || bed_fail "unit name $unit"
text=$(C cat "/etc/systemd/system/$unit")
bed_assert_contains "$text" "User=xoe-$s" "unit"
bed_assert_contains "$text" "SupplementaryGroups=oe-xoe" "unit"
bed_assert_contains "$text" "Restart=on-failure" "unit"
bed_assert_contains "$text" "ExecStart=\"/usr/bin/python3\" \"-S\" \"$XROOT/" "unit"
bed_assert_contains "$text" "/usr/bin/trytond\" \"-vv\" \"-c\" \"$XROOT/var/lib/oe/xoe/services/$s/trytond.conf\"" "unit"
bed_assert_contains "$text" "StandardOutput=append:$XROOT/var/log/oe/xoe/$s/current" "unit"
[[ ! -e $XROOT/var/lib/oe/xoe/sv/$s && ! -e $XROOT/var/lib/oe/xoe/services/$s/runit ]] \
  || bed_fail "a runit entry was made under systemd"
bed_assert_eq "active running enabled" "$(sd_show "$unit" ActiveState) $(sd_show "$unit" SubState) $(C systemctl is-enabled "$unit")" "systemctl"
bed_assert_eq 1 "$(xoe_login "$port" "$s" admin "$pw")" "login"
ok "unit $unit: written by xoe, active and enabled; login works"

# status reads systemd: the main PID, as the service's user.
status=$(XS service status "$s" --json)
pid=$(xoe_json 'd["service"]["pid"]' <<<"$status")
bed_assert_eq run "$(xoe_json 'd["service"]["state"]' <<<"$status")" "status"
bed_assert_eq "$(sd_show "$unit" MainPID)" "$pid" "xoe's pid and systemd's MainPID"
bed_assert_eq "xoe-$s" "$(C stat -c %U "/proc/$pid")" "the server's user"
bed_assert_eq "$(XS service list --json | xoe_json '[x["state"] for x in d["services"]][0]')" run "list"
ok "status: run, pid $pid = MainPID, user xoe-$s"

# The log: the file `service logs` reads.
bed_wait 30 "the server's start in its log" grep -q "trytond" "$XROOT/var/log/oe/xoe/$s/current"
[[ -n $(XS service logs "$s" --lines 5) ]] || bed_fail "service logs printed nothing"
ok "service logs reads the unit's output"

# systemd restarts a server killed with SIGKILL.
C kill -9 "$pid"
new_pid() {
  local st
  st=$(XS service status "$s" --json) || return 1
  [[ $(xoe_json 'd["service"]["state"]' <<<"$st") == run ]] || return 1
  local p
  p=$(xoe_json 'd["service"]["pid"]' <<<"$st")
  [[ $p != None && $p != "$pid" ]]
}
bed_wait 30 "systemd restarting $s" new_pid
bed_wait 60 "$s answering again" xoe_login "$port" "$s" admin "$pw"
pid2=$(XS service status "$s" --json | xoe_json 'd["service"]["pid"]')
[[ $(sd_show "$unit" NRestarts) -ge 1 ]] || bed_fail "NRestarts $(sd_show "$unit" NRestarts)"
bed_assert_eq "$(sd_show "$unit" MainPID)" "$pid2" "MainPID after the restart"
ok "kill -9 $pid: systemd restarted it as $pid2, login works"

# stop, start, restart through xoe.
XS service stop "$s" >/dev/null
bed_assert_eq down "$(XS service status "$s" --json | xoe_json 'd["service"]["state"]')" "stopped"
bed_assert_eq "inactive disabled" "$(sd_show "$unit" ActiveState) $(C systemctl is-enabled "$unit" || :)" "systemctl after stop"
xoe_login "$port" "$s" admin "$pw" >/dev/null 2>&1 && bed_fail "a stopped service answers"
XS service start "$s" >/dev/null
bed_assert_eq "active enabled" "$(sd_show "$unit" ActiveState) $(C systemctl is-enabled "$unit")" "systemctl after start"
bed_assert_eq 1 "$(xoe_login "$port" "$s" admin "$pw")" "login after start"
pid3=$(XS service status "$s" --json | xoe_json 'd["service"]["pid"]')
XS service restart "$s" >/dev/null
pid4=$(XS service status "$s" --json | xoe_json 'd["service"]["pid"]')
[[ $pid4 != "$pid3" ]] || bed_fail "restart kept pid $pid3"
bed_assert_eq 1 "$(xoe_login "$port" "$s" admin "$pw")" "login after restart"
ok "stop (inactive, disabled), start (active, enabled), restart (pid $pid3 -> $pid4)"

# xoe's own PostgreSQL cluster (database.host empty) under systemd: a unit
# like a service's, as postgres, stopped with SIGINT; systemd restarts it.
q=pq-$XID
out=$(XS service create "$q" --software tryton --version 7.0 --json)
qpw=$(xoe_json 'd["service"]["admin_password"]' <<<"$out")
qport=$(XS service show "$q" --json | xoe_json 'd["service"]["port"]')
bed_assert_eq 1 "$(xoe_login "$qport" "$q" admin "$qpw")" "login of $q on xoe's own cluster"
mapfile -t punits < <(C find /etc/systemd/system -maxdepth 1 -name "xoe_*__postgresql.service" -printf '%f\n')
bed_assert_eq 1 "${#punits[@]}" "unit files of the cluster"
punit=${punits[0]}
ptext=$(C cat "/etc/systemd/system/$punit")
for line in "User=postgres" "KillSignal=SIGINT" "KillMode=mixed" "Restart=on-failure" \
            "\"-D\" \"$XROOT/var/lib/postgresql/oe-xoe\""; do
  bed_assert_contains "$ptext" "$line" "the cluster's unit"
done
bed_assert_eq "active enabled" "$(sd_show "$punit" ActiveState) $(C systemctl is-enabled "$punit")" "the cluster's unit"
pm=$(sd_show "$punit" MainPID)
bed_assert_eq postgres "$(C stat -c %U "/proc/$pm")" "the postmaster's user"
C kill -9 "$pm"
cluster_back() { local m; m=$(sd_show "$punit" MainPID); [[ $m != 0 && $m != "$pm" && $(sd_show "$punit" ActiveState) == active ]]; }
bed_wait 60 "systemd restarting the cluster" cluster_back
bed_wait 60 "$q answering after the cluster's restart" xoe_login "$qport" "$q" admin "$qpw"
XS service remove "$q" >/dev/null
ok "own PostgreSQL cluster: unit $punit (postgres, SIGINT), restarted after kill -9, $q logs in"

# A service of another root: its own unit, left alone by this root's supervisor stop.
b=sb-$XID
XS2() { bed_systemd_exec xoe --root "$XROOT2" "$@"; }
XS2 service create "$b" --software tryton --version 7.0 --db-backend sqlite >/dev/null
unit2=$(C find /etc/systemd/system -maxdepth 1 -name "xoe_*_$b.service" -printf '%f\n')
[[ -n $unit2 && ${unit2:0:21} != "${unit:0:21}" ]] || bed_fail "units of two roots: $unit, $unit2"

# supervisor stop stops the root's units and leaves them enabled; start starts them.
XS supervisor stop >/dev/null
bed_assert_eq "inactive enabled" "$(sd_show "$unit" ActiveState) $(C systemctl is-enabled "$unit")" "after supervisor stop"
bed_assert_eq active "$(sd_show "$unit2" ActiveState)" "the other root's unit after supervisor stop"
XS supervisor start >/dev/null
bed_assert_eq active "$(sd_show "$unit" ActiveState)" "after supervisor start"
bed_wait 60 "$s answering after supervisor start" xoe_login "$port" "$s" admin "$pw"
XS2 service remove "$b" >/dev/null
ok "a second root: unit $unit2, untouched by the first root's supervisor stop; supervisor stop and start"

# remove: no unit file, no unit, no user, no process, no port.
XS service remove "$s" >/dev/null
C test ! -e "/etc/systemd/system/$unit" || bed_fail "unit file $unit left"
[[ -z $(C find /etc/systemd/system -name "$unit") ]] || bed_fail "a link to $unit left: $(C find /etc/systemd/system -name "$unit")"
bed_assert_eq not-found "$(sd_show "$unit" LoadState)" "unit after remove"
! C id "xoe-$s" >/dev/null 2>&1 || bed_fail "user xoe-$s left"
! C pgrep -f "$XROOT/var/lib/oe/xoe/services/$s/" >/dev/null || bed_fail "processes of $s left"
[[ -z $(C ss -Htln "sport = :$port") ]] || bed_fail "port $port still listened on"
bed_assert_eq 0 "$(XS service list --json | xoe_json 'len(d["services"])')" "empty list"
ok "remove: no unit file, unit, user, process or port left"
ok "all in $((SECONDS - T0)) s"
