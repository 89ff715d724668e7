# SPDX-License-Identifier: GPL-3.0-or-later
# bed_systemd: a container whose PID 1 is a real systemd. It boots; units
# start and are restarted; what it writes to / stays in it, what it writes to
# $BED_DIR reaches the host; its hostname, network and processes are its
# own; the host's units are not started in it; its device nodes are its
# own; after a power failure and a boot its files are there and its enabled
# units start. Its cgroups are checked gone by the bed at exit.
source "${OE_SOURCE_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}/tests/bed/bed.sh"
bed_init
before=$(find /etc/systemd/system | sort)
bed_systemd
C() { bed_systemd_exec "$@"; }

bed_assert_eq systemd "$(C cat /proc/1/comm)" "PID 1 in the container"
# container=oe-bed in its environment: a container to systemd, of a kind it does not know
bed_assert_eq container-other "$(C systemd-detect-virt --container)" "container type"
bed_assert_eq 1 "$(C ip -o link show | wc -l)" "network links in the container (loopback only)"
# Only the bed's two masks (no login prompt on the null console).
bed_assert_eq "console-getty.service -> /dev/null getty.target -> /dev/null" \
  "$(C find /etc/systemd/system -mindepth 1 -printf '%f -> %l\n' | sort | paste -sd' ')" "/etc/systemd/system in the container"
[[ -z $(C systemctl list-units --no-legend --state=active 'ssh*' 'postgresql*' 'nginx*' 'cron*') ]] \
  || bed_fail "host services started in the container"

# Its device nodes are its own: a chmod in there does not reach the host's.
C chmod 600 /dev/null /dev/console
bed_assert_eq 666 "$(stat -c %a /dev/null)" "the host's /dev/null after a chmod in the container"
C chmod 666 /dev/null

# A unit: started, restarted after kill -9, stopped.
C sh -c 'printf "[Service]\nExecStart=/bin/sleep 600\nRestart=on-failure\nRestartSec=1\n[Install]\nWantedBy=multi-user.target\n" >/etc/systemd/system/bed-probe.service'
C systemctl daemon-reload
C systemctl start bed-probe.service
pid=$(C systemctl show -p MainPID --value bed-probe.service)
[[ $pid -gt 1 ]] || bed_fail "no MainPID"
C kill -9 "$pid"
restarted() { local p; p=$(C systemctl show -p MainPID --value bed-probe.service); [[ $p -gt 1 && $p != "$pid" ]]; }
bed_wait 20 "systemd restarting bed-probe" restarted
C systemctl stop bed-probe.service
bed_assert_eq inactive "$(C systemctl show -p ActiveState --value bed-probe.service)" "stopped"

# Writes to / stay inside; writes to $BED_DIR are shared.
C touch /etc/bed-probe "$BED_DIR/from-container"
[[ ! -e /etc/bed-probe && ! -e /etc/systemd/system/bed-probe.service ]] || bed_fail "the container wrote to the host's /etc"
[[ -e $BED_DIR/from-container ]] || bed_fail "\$BED_DIR not shared"
bed_assert_eq "$before" "$(find /etc/systemd/system | sort)" "the host's /etc/systemd/system"
[[ $(C hostname) == $(hostname) ]] && C hostname bed-systemd-probe
[[ $(hostname) != bed-systemd-probe ]] || bed_fail "the container's hostname reached the host"

# A power failure and a boot: what it wrote stays, an enabled unit starts by itself.
C systemctl enable bed-probe.service 2>/dev/null
bed_systemd_reboot
C test -e /etc/bed-probe || bed_fail "/etc/bed-probe lost in the reboot"
bed_wait 20 "bed-probe started at boot" test "$(C systemctl show -p ActiveState --value bed-probe.service)" = active
state=$(C systemctl is-system-running || :)
[[ $state == running ]] || bed_log "the container is $state after the boot; failed units: $(C systemctl --failed --no-legend | paste -sd' ')"
bed_assert_eq 666 "$(stat -c %a /dev/null)" "the host's /dev/null after the boot"
bed_assert_eq "$before" "$(find /etc/systemd/system | sort)" "the host's /etc/systemd/system after the boot"
bed_log "ok: systemd as PID 1 of a container; units restarted; a reboot keeps its files and starts its enabled units; the host untouched"
