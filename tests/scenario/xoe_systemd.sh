# SPDX-License-Identifier: GPL-3.0-or-later
# xoe under a real systemd: a container whose PID 1 is Debian's systemd
# (bed_systemd: the host's / through an overlay, none of the host's units),
# xoe run inside it with supervisor.kind auto. A Tryton 7.0 service on
# SQLite becomes a unit xoe wrote (User=, the argv, Restart=on-failure, the
# log file `service logs` reads); it answers its JSON-RPC login; systemctl
# shows it active and enabled; a kill -9 of its main process is restarted by
# systemd (a new PID that answers); stop, start, restart and status through
# xoe agree with systemctl; supervisor stop and start; remove leaves no unit
# file, no unit, no user and no process. A service made under runit on the
# same host stays under runit, and `supervisor migrate` moves the root's
# services and its own PostgreSQL cluster between runit and systemd. After a
# power failure and a boot, systemd starts the enabled units by itself. On
# the host (no systemd as PID 1), supervisor.kind systemd is refused.
source "${OE_SOURCE_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}/tests/bed/bed.sh"
bed_init
source "$OE_SOURCE_DIR/tests/xoe/lib.sh"
xoe_setup
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
bed_assert_contains "$text" "ExecStart=\"/usr/bin/python3\" \"-S\" \"$OE_BUILD_DIR/share/oe/xoe/tryton_guard.py\" \"$XROOT/" "unit (trytond behind the guard)"
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

# logrotate: the root's rule names each unit's log (not runit's, svlogd
# rotates those); a rotation keeps the lines in current.1, the server goes
# on writing into the truncated current, and `service logs` reads both.
rule=/etc/logrotate.d/${unit:0:20}
bed_assert_contains "$(C cat "$rule")" "\"$XROOT/var/log/oe/xoe/$s/current\"" "the logrotate rule"
log=$XROOT/var/log/oe/xoe/$s
first=$(head -n 1 "$log/current")
C logrotate -f "$rule"
[[ -s $log/current.1 && $(head -n 1 "$log/current.1") == "$first" ]] || bed_fail "logrotate kept no current.1 starting with: $first"
xoe_login "$port" "$s" admin "$pw" >/dev/null
bed_wait 10 "the server writing into the truncated current" test -s "$log/current"
last=$(tail -n 1 "$log/current")
all=$(XS service logs "$s" --lines 100000)
bed_assert_contains "$all" "$first" "service logs after a rotation (current.1)"
bed_assert_contains "$all" "$last" "service logs after a rotation (current)"
ok "logrotate rule $rule: rotated into current.1, the server writes on, service logs reads both"

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
ok "own PostgreSQL cluster: unit $punit (postgres, SIGINT), restarted after kill -9, $q logs in"

# A service created under runit on this systemd host (supervisor.kind=runit)
# stays under runit when supervisor.kind is auto again: xoe finds each
# service's entry wherever it is.
r=sr-$XID
out=$(XS --set supervisor.kind=runit service create "$r" --software tryton --version 7.0 --db-backend sqlite --json)
rpw=$(xoe_json 'd["service"]["admin_password"]' <<<"$out")
rport=$(XS service show "$r" --json | xoe_json 'd["service"]["port"]')
runit_of() { C test -L "$XROOT/var/lib/oe/xoe/sv/$1" && C test -d "$XROOT/var/lib/oe/xoe/services/$1/runit"; }
no_runit_of() { ! C test -e "$XROOT/var/lib/oe/xoe/sv/$1" && ! C test -e "$XROOT/var/lib/oe/xoe/services/$1/runit"; }
prefix=${unit%_"$s".service}  # xoe_HASH: this root's units
units_of_root() { C find /etc/systemd/system -maxdepth 1 -name "${prefix}_*.service" -printf '%f\n' | sort | paste -sd' '; }
runit_of "$r" || bed_fail "no runit entry for $r"
bed_assert_eq "${prefix}__postgresql.service ${prefix}_$q.service $unit" "$(units_of_root)" "units beside a runit service"
bed_assert_eq 1 "$(xoe_login "$rport" "$r" admin "$rpw")" "login of $r under runit"
entries() { XS supervisor status --json | xoe_json '" ".join(d["supervisor"]["entries"]["runit"]) + " | " + " ".join(d["supervisor"]["entries"]["systemd"])'; }
bed_assert_eq "$r | $(units_of_root)" "$(entries)" "supervisor status entries"
bed_assert_eq "runit systemd" "$(for x in "$r" "$s"; do XS service show "$x" --json | xoe_json 'd["service"]["supervisor"]'; done | paste -sd' ')" "service show: supervisor"
# Runit entries come back at boot through a oneshot unit that starts runsvdir.
boot=runsvdir-$prefix.service
bed_assert_eq enabled "$(C systemctl is-enabled "$boot")" "the boot unit of the runit entries"
bed_assert_contains "$(C cat "/etc/systemd/system/$boot")" "\"--root\" \"$XROOT\" \"--set\" \"supervisor.kind=runit\" \"supervisor\" \"start\"" "the boot unit"
XS service stop "$r" >/dev/null
bed_assert_eq down "$(XS service status "$r" --json | xoe_json 'd["service"]["state"]')" "$r stopped (runit, kind auto)"
XS service start "$r" >/dev/null
bed_assert_eq 1 "$(xoe_login "$rport" "$r" admin "$rpw")" "login of $r after start (runit, kind auto)"
rpid=$(XS service status "$r" --json | xoe_json 'd["service"]["pid"]')
bed_assert_eq runsv "$(C ps -o comm= -p "$(C ps -o ppid= -p "$rpid" | tr -d ' ')")" "the parent of $r's server"
ok "$r made under runit on a systemd host: stop, start and status through runit with supervisor.kind auto"

# supervisor migrate moves it to a unit of its own, started again.
m=$(XS supervisor migrate --json)
bed_assert_eq "$r runit systemd True" "$(xoe_json '" ".join(" ".join(str(x[k]) for k in ("name", "from", "to", "running")) for x in d["migrate"]["moved"])' <<<"$m")" "migrate"
no_runit_of "$r" || bed_fail "the runit entry of $r is left after migrate"
runit_unit=${prefix}_$r.service
bed_assert_eq "active enabled" "$(sd_show "$runit_unit" ActiveState) $(C systemctl is-enabled "$runit_unit")" "$r's unit after migrate"
bed_assert_eq 1 "$(xoe_login "$rport" "$r" admin "$rpw")" "login of $r under systemd"
bed_assert_eq "$(sd_show "$runit_unit" MainPID)" "$(XS service status "$r" --json | xoe_json 'd["service"]["pid"]')" "status of $r after migrate"
bed_assert_eq "nothing to move" "$(XS supervisor migrate)" "migrate again"
C test ! -e "/etc/systemd/system/$boot" || bed_fail "the boot unit is left without runit entries"
bed_assert_eq systemd "$(XS service show "$r" --json | xoe_json 'd["service"]["supervisor"]')" "service show after migrate"
ok "supervisor migrate: $r is now $runit_unit, active, enabled, answering; a second migrate moves nothing"

# Back to runit, then to systemd again: the cluster first, then every
# service, each running again and answering.
m=$(XS --set supervisor.kind=runit supervisor migrate --json)
bed_assert_eq "_postgresql $q $s $r" "$(xoe_json 'd["migrate"]["moved"][0]["name"] + " " + " ".join(sorted(x["name"] for x in d["migrate"]["moved"][1:]))' <<<"$m")" "moved to runit, the cluster first"
bed_assert_eq "" "$(units_of_root)" "units of the root after the move to runit"
for x in _postgresql "$s" "$q" "$r"; do runit_of "$x" || bed_fail "no runit entry for $x"; done
bed_assert_eq enabled "$(C systemctl is-enabled "$boot")" "the boot unit after the move to runit"
bed_assert_eq run "$(XS --set supervisor.kind=runit service status "$q" --json | xoe_json 'd["service"]["state"]')" "$q under runit"
bed_assert_eq 1 "$(xoe_login "$qport" "$q" admin "$qpw")" "login of $q (own cluster) under runit"
bed_assert_eq 1 "$(xoe_login "$port" "$s" admin "$pw")" "login of $s under runit"
XS supervisor migrate >/dev/null
for x in _postgresql "$s" "$q" "$r"; do no_runit_of "$x" || bed_fail "the runit entry of $x is left"; done
bed_assert_eq "active active" "$(sd_show "$punit" ActiveState) $(sd_show "$unit" ActiveState)" "units after the move back"
bed_assert_eq 1 "$(xoe_login "$qport" "$q" admin "$qpw")" "login of $q after the move back"
bed_assert_eq 1 "$(xoe_login "$rport" "$r" admin "$rpw")" "login of $r after the move back"
ok "supervisor migrate to runit (cluster, $s, $q, $r) and back to systemd: all answer"

# A move killed after the new entry was written, before its server was
# started again (the state it leaves: the unit down, the marker there): the
# next migrate starts it.
C systemctl disable --now "$runit_unit" 2>/dev/null
touch "$XROOT/var/lib/oe/xoe/services/.$r.supervisor-move"
m=$(XS supervisor migrate --json)
bed_assert_eq "$r systemd systemd True" "$(xoe_json '" ".join(" ".join(str(x[k]) for k in ("name", "from", "to", "running")) for x in d["migrate"]["moved"])' <<<"$m")" "migrate after a killed move"
[[ ! -e $XROOT/var/lib/oe/xoe/services/.$r.supervisor-move ]] || bed_fail "the move marker of $r is left"
bed_assert_eq "active enabled" "$(sd_show "$runit_unit" ActiveState) $(C systemctl is-enabled "$runit_unit")" "$r after the finished move"
bed_assert_eq 1 "$(xoe_login "$rport" "$r" admin "$rpw")" "login of $r after the finished move"
ok "a move killed before the start: the next migrate starts $r"

# A power failure and a boot: systemd starts the enabled units by itself
# (no xoe command runs before the logins), the cluster recovers from its
# crash, and a service that was stopped stays stopped.
XS service stop "$r" >/dev/null
rb=rb-$XID
out=$(XS --set supervisor.kind=runit service create "$rb" --software tryton --version 7.0 --db-backend sqlite --json)
rbpw=$(xoe_json 'd["service"]["admin_password"]' <<<"$out")
rbport=$(XS service show "$rb" --json | xoe_json 'd["service"]["port"]')
bed_systemd_reboot
bed_wait 120 "$q answering after the boot" xoe_login "$qport" "$q" admin "$qpw"
bed_wait 60 "$s answering after the boot" xoe_login "$port" "$s" admin "$pw"
bed_assert_eq "active active inactive" \
  "$(sd_show "$punit" ActiveState) $(sd_show "$unit" ActiveState) $(sd_show "$runit_unit" ActiveState)" "units after the boot"
bed_assert_eq "run run down" "$(for x in "$q" "$s" "$r"; do XS service status "$x" --json | xoe_json 'd["service"]["state"]'; done | paste -sd' ')" "xoe's states after the boot"
bed_wait 60 "$rb (runit) answering after the boot" xoe_login "$rbport" "$rb" admin "$rbpw"
bed_assert_eq "active runsv" "$(sd_show "$boot" ActiveState) $(C ps -o comm= -p "$(C ps -o ppid= -p "$(XS service status "$rb" --json | xoe_json 'd["service"]["pid"]')" | tr -d ' ')")" "$rb after the boot"
XS service remove "$rb" >/dev/null
C test ! -e "/etc/systemd/system/$boot" || bed_fail "the boot unit is left after the last runit service"
XS service start "$r" >/dev/null
bed_assert_eq 1 "$(xoe_login "$rport" "$r" admin "$rpw")" "login of $r started after the boot"
XS service remove "$r" >/dev/null
XS service remove "$q" >/dev/null
ok "power failure and boot: the cluster, $q, $s and the runit $rb came back by themselves, the stopped $r stayed down"

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
[[ $(C cat "$rule") != *"/$s/current"* ]] || bed_fail "the logrotate rule still names $s"
ok "remove: no unit file, unit, user, process or port left"
ok "all in $((SECONDS - T0)) s"
