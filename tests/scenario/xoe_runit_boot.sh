# SPDX-License-Identifier: GPL-3.0-or-later
# xoe on a host without systemd whose init runs runit on /etc/service (a
# vserver whose PID 1 is runsvdir; Debian's runit-run under sysvinit): the
# root's runsvdir becomes a runit service of the system's runit
# (/etc/service/xoe_HASH), so that after a power failure the services that
# ran come back by themselves, and the one stopped stays down; supervisor
# stop and start; removing the last service removes the link; a runsvdir
# started detached (by an older xoe) moves under the system's runit with
# supervisor stop and start; a runsvdir xoe did not start on its folder is
# used, not doubled, and not stopped.
source "${OE_SOURCE_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}/tests/bed/bed.sh"
bed_init
source "$OE_SOURCE_DIR/tests/xoe/lib.sh"
xoe_setup

X software deps --check tryton/7.0 >/dev/null || bed_fail "the Tryton packages of this host are missing (.ci/packages.txt)"
X software fetch tryton/7.0 >/dev/null
bed_runit
# Every xoe command from here on runs on that host.
R() { bed_runit_exec xoe --root "$XROOT" "$@"; }
scan=$XROOT/var/lib/oe/xoe/sv
# The runsvdirs watching this root's folder, in that host (by their command line).
watchers() { bed_runit_exec pgrep -f "runsvdir -P $scan log:" | wc -l; }
status_field() { R supervisor status --json | xoe_json "d[\"supervisor\"][\"$1\"]"; }

a=ra-$XID b=rb-$XID
outa=$(R service create "$a" --software tryton --version 7.0 --db-backend sqlite --json)
outb=$(R service create "$b" --software tryton --version 7.0 --db-backend sqlite --json)
pwa=$(xoe_json 'd["service"]["admin_password"]' <<<"$outa")
porta=$(R service show "$a" --json | xoe_json 'd["service"]["port"]')
portb=$(R service show "$b" --json | xoe_json 'd["service"]["port"]')
bed_assert_eq 1 "$(xoe_login "$porta" "$a" admin "$pwa")" "login $a"

links=("$BED_RUNIT_DIR"/service/*)
bed_assert_eq 1 "${#links[@]}" "entries in /etc/service"
tag=$(basename "${links[0]}")
[[ $tag == xoe_* ]] || bed_fail "entry $tag in /etc/service"
bed_assert_eq "$XROOT/var/lib/oe/xoe/runsvdir" "$(readlink "${links[0]}")" "the boot link"
bed_assert_eq "/etc/service/$tag" "$(status_field boot)" "supervisor status: boot"
bed_assert_eq 1 "$(watchers)" "runsvdirs on $scan"
# Its runsvdir is a service of the system's runit: runsvdir <- runsv <- PID 1.
nested=$(bed_runit_exec pgrep -f "runsvdir -P $scan log:")
runsv=$(bed_runit_exec ps -o ppid= -p "$nested" | tr -d ' ')
bed_assert_eq "runsv 1" "$(bed_runit_exec ps -o comm=,ppid= -p "$runsv" | tr -s ' ')" "the parent of runsvdir"
[[ ! -e $XROOT/var/lib/oe/xoe/run/runsvdir.pid ]] || bed_fail "a detached runsvdir was started as well"
bed_assert_contains "$(R supervisor status)" "started by /etc/service/$tag" "supervisor status text"
# Seen from the host's mount namespace, where /etc/service is another
# folder, that runsvdir is not this root's: a path names a folder only in
# its own namespace.
bed_assert_eq "False None" "$(X supervisor status --json | xoe_json 'str(d["supervisor"]["running"]) + " " + str(d["supervisor"]["boot"])')" \
  "supervisor status from the host's mount namespace"
ok "the root's runsvdir runs under the system's runit, as /etc/service/$tag"

R service stop "$b" >/dev/null
# supervisor stop: everything down, the link kept; start brings back what ran.
R supervisor stop >/dev/null
bed_assert_eq 0 "$(watchers)" "runsvdirs after supervisor stop"
bed_assert_eq "False" "$(status_field running)" "running after supervisor stop"
xoe_login "$porta" "$a" admin "$pwa" >/dev/null 2>&1 && bed_fail "$a answers after supervisor stop"
[[ -L $BED_RUNIT_DIR/service/$tag ]] || bed_fail "supervisor stop removed the boot link"
R supervisor start >/dev/null
bed_assert_eq 1 "$(watchers)" "runsvdirs after supervisor start"
bed_wait 60 "$a to answer after supervisor start" xoe_login "$porta" "$a" admin "$pwa"
ok "supervisor stop and start"

# A power failure, then a boot: no xoe command runs; the system's runit
# starts the root's runsvdir, which starts $a; $b stays down.
pid_before=$(R service status "$a" --json | xoe_json 'd["service"]["pid"]')
bed_runit_reboot
bed_wait 90 "$a to answer after the boot" xoe_login "$porta" "$a" admin "$pwa"
pid_after=$(R service status "$a" --json | xoe_json 'd["service"]["pid"]')
[[ $pid_after != None && $pid_after != "$pid_before" ]] || bed_fail "$a's server after the boot: pid $pid_after (was $pid_before)"
bed_assert_eq 1 "$(watchers)" "runsvdirs after the boot"
bed_assert_eq down "$(R service status "$b" --json | xoe_json 'd["service"]["state"]')" "$b after the boot"
bed_assert_eq run "$(R service status "$a" --json | xoe_json 'd["service"]["state"]')" "$a after the boot"
! (exec 3<>"/dev/tcp/127.0.0.1/$portb") 2>/dev/null || bed_fail "$b listens after the boot"
ok "power failure: $a came back by itself, $b stayed down"

# The last runit entry gone: nothing left to start at boot.
R service remove "$a" >/dev/null
[[ -L $BED_RUNIT_DIR/service/$tag ]] || bed_fail "the boot link went with a service while one is left"
R service remove "$b" >/dev/null
[[ -z $(ls -A "$BED_RUNIT_DIR/service") ]] || bed_fail "left in /etc/service: $(ls -A "$BED_RUNIT_DIR/service")"
[[ ! -e $XROOT/var/lib/oe/xoe/runsvdir ]] || bed_fail "the runsvdir service folder is left"
bed_wait 10 "the root's runsvdir to exit" test "$(watchers)" = 0
bed_assert_eq "None" "$(status_field boot)" "supervisor status: boot after the last removal"
ok "removing the last service removes the boot link and its runsvdir"

# A runsvdir an older xoe started through start-stop-daemon, before the
# system's runit ran: used as it is (nothing starts it at boot) until
# supervisor stop and start move it under the system's runit.
bed_runit_exec start-stop-daemon --start --background --make-pidfile --pidfile "$XROOT/run/oe/xoe/runsvdir.pid" \
  --exec /usr/bin/runsvdir -- -P "$scan" "log: ..........."
# (30 s and the host's processes on failure: it once timed out after 10 s in CI, not seen since.)
deadline=$((SECONDS + 30))
until [[ $(watchers) == 1 ]]; do
  ((SECONDS < deadline)) ||
    bed_fail "after 30 s, runsvdirs on $scan: $(watchers); processes: $(bed_runit_exec ps -eo pid,ppid,args | tr '\n' ';')"
  sleep 0.1
done
c=rc-$XID
outc=$(R service create "$c" --software tryton --version 7.0 --db-backend sqlite --json)
portc=$(R service show "$c" --json | xoe_json 'd["service"]["port"]')
pwc=$(xoe_json 'd["service"]["admin_password"]' <<<"$outc")
bed_assert_eq 1 "$(xoe_login "$portc" "$c" admin "$pwc")" "login $c"
bed_assert_eq "1 None" "$(watchers) $(status_field boot)" "runsvdirs and boot beside the detached runsvdir"
R supervisor stop >/dev/null
bed_assert_eq 0 "$(watchers)" "runsvdirs after stopping the detached one"
R supervisor start >/dev/null
bed_assert_eq "1 /etc/service/$tag" "$(watchers) $(status_field boot)" "runsvdirs and boot after supervisor start"
bed_wait 60 "$c to answer under the system's runit" xoe_login "$portc" "$c" admin "$pwc"
ok "a detached runsvdir moves under the system's runit with supervisor stop and start"

# A runsvdir xoe did not start (a vserver whose PID 1 watches xoe's folder):
# used, not doubled; supervisor stop refuses rather than fight it.
R supervisor stop >/dev/null
bed_runit_exec setsid -f runsvdir -P "$scan" "log: ..........." </dev/null >/dev/null 2>&1
bed_wait 10 "the foreign runsvdir" test "$(watchers)" = 1
foreign=$(bed_runit_exec pgrep -f "runsvdir -P $scan log:")
bed_wait 60 "$c to answer under the foreign runsvdir" xoe_login "$portc" "$c" admin "$pwc"
R supervisor start >/dev/null
bed_assert_eq "1 $foreign" "$(watchers) $(status_field pid)" "runsvdirs and pid with a foreign one"
rc=0
err=$(R supervisor stop 2>&1 >/dev/null) || rc=$?
bed_assert_eq 6 "$rc" "exit code of supervisor stop beside a foreign runsvdir ($err)"
bed_assert_contains "$err" "xoe did not start it" "message of supervisor stop"
bed_assert_eq 1 "$(xoe_login "$portc" "$c" admin "$pwc")" "login $c after the refused stop"
ok "a foreign runsvdir on the root's folder is used, and supervisor stop refuses to fight it"
# As a removal killed after the link went: the next one removes the folder.
rm "$BED_RUNIT_DIR/service/$tag"
R service remove "$c" >/dev/null
[[ -z $(ls -A "$BED_RUNIT_DIR/service") ]] || bed_fail "left in /etc/service: $(ls -A "$BED_RUNIT_DIR/service")"
[[ ! -e $XROOT/var/lib/oe/xoe/runsvdir ]] || bed_fail "the runsvdir service folder is left after its link went by hand"
bed_log "all ok"
