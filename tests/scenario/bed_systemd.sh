# SPDX-License-Identifier: GPL-3.0-or-later
# bed_systemd: a container whose PID 1 is a real systemd. It boots; units
# start and are restarted; what it writes to / stays in it, what it writes to
# $BED_DIR reaches the host; its hostname, network and processes are its
# own; the host's units are not started in it. Its cgroups are checked gone
# by the bed at exit.
source "${OE_SOURCE_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}/tests/bed/bed.sh"
bed_init
before=$(find /etc/systemd/system | sort)
bed_systemd
C() { bed_systemd_exec "$@"; }

bed_assert_eq systemd "$(C cat /proc/1/comm)" "PID 1 in the container"
# container=oe-bed in its environment: a container to systemd, of a kind it does not know
bed_assert_eq container-other "$(C systemd-detect-virt --container)" "container type"
bed_assert_eq 1 "$(C ip -o link show | wc -l)" "network links in the container (loopback only)"
[[ -z $(C find /etc/systemd/system -mindepth 1) ]] || bed_fail "host units in the container: $(C ls /etc/systemd/system)"
[[ -z $(C systemctl list-units --no-legend --state=active 'ssh*' 'postgresql*' 'nginx*' 'cron*') ]] \
  || bed_fail "host services started in the container"

# A unit: started, restarted after kill -9, stopped.
C sh -c 'printf "[Service]\nExecStart=/bin/sleep 600\nRestart=on-failure\nRestartSec=1\n" >/etc/systemd/system/bed-probe.service'
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
bed_log "ok: systemd as PID 1 of a container; units restarted; the host untouched"
