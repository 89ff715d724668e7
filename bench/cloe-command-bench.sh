#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# `cloe command` in parallel against a sequential loop: CLOE_BENCH_N vservers
# (40) in one group on the test bed's private libvirtd (tests/cloe/lib.sh, the
# cached template), one command (CLOE_BENCH_CMD, default a CPU-bound shell
# loop of CLOE_BENCH_WORK iterations, 300000), run
#   sequentially: a loop of `cloe command VSERVER -- CMD`, one vserver at a time
#   in parallel:  `cloe command GROUP --parallel P -- CMD` (P = CLOE_BENCH_PARALLEL, default N)
# and prints the speed-up against its bound min(N, P, cores): a CPU-bound
# command cannot go faster than the cores allow; `CLOE_BENCH_CMD='sleep 2'`
# shows the bound min(N, P). Needs root and the built cloe and vserver_probe
# (the newest build*/bin of the source tree, else PATH).
set -euo pipefail
src=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export OE_SOURCE_DIR=${OE_SOURCE_DIR:-$src}
bin=
for d in "$OE_SOURCE_DIR"/build*/bin; do
  [[ -x $d/cloe ]] || continue
  [[ -z $bin || $d/cloe -nt $bin/cloe ]] && bin=$d
done
[[ -n $bin ]] && export PATH=$bin:$PATH
n=${CLOE_BENCH_N:-40}
p=${CLOE_BENCH_PARALLEL:-$n}
work=${CLOE_BENCH_WORK:-300000}
read -r -a cmd <<<"${CLOE_BENCH_CMD:-}"
((${#cmd[@]})) || cmd=(sh -c "i=0; while [ \$i -lt $work ]; do i=\$((i+1)); done")
source "$OE_SOURCE_DIR/tests/cloe/lib.sh"
cloe_template
cloe_vservers
bed_bridge cb
hostip=$BED_BRIDGE_CB_IP
R=$BED_DIR/root
mkdir -p "$R/var/lib/oe/cloe/templates"
ln -s "$CLOE_CACHE/var/lib/oe/cloe/templates/base" "$R/var/lib/oe/cloe/templates/base"
export OE_CLOE_LIBVIRT_URI=$BED_LIBVIRT_URI OE_CLOE_NETWORK_BRIDGE=$BED_BRIDGE_CB OE_CLOE_LOCKS_WAIT=0
C() { cloe --root "$R" "$@"; }
names=()
for ((i = 0; i < n; i++)); do
  names+=("bench$i-${BED_ID,,}")
  cloe_vserver_name "bench$i"
done
_down() { local v; for v in "${names[@]}"; do C vserver destroy "$v" --force >/dev/null 2>&1 || true; done; }
bed_on_exit _down
cores=$(nproc)
C cluster init b --network "${hostip%.*}.0/24" --gateway "$hostip" >/dev/null
C @b node add n0 --local --address "${hostip%.*}.2" --storage "ssd=$CLOE_STORAGE" --memory "$((n * 128 + 512))M" --cpus "$cores" >/dev/null
for v in "${names[@]}"; do C @b vserver create "$v" --memory 128M --disk 96M --group bench >/dev/null; done

now() { date +%s.%N; }
t0=$(now)
for v in "${names[@]}"; do C @b command "$v" -- "${cmd[@]}" >/dev/null; done
t1=$(now)
C @b command bench --parallel "$p" -- "${cmd[@]}" >/dev/null
t2=$(now)
seq_s=$(echo "$t1 - $t0" | bc -l) par_s=$(echo "$t2 - $t1" | bc -l)
bound=$n
((p < bound)) && bound=$p
((cores < bound)) && bound=$cores
[[ ${cmd[0]} == sleep ]] && bound=$((n < p ? n : p))
speedup=$(echo "$seq_s / $par_s" | bc -l)
printf 'cloe command: %d vservers, --parallel %d, %d cores, command: %s\n' "$n" "$p" "$cores" "${cmd[*]}"
printf '  sequential loop %.2f s, parallel %.2f s: speed-up %.2f against the bound %d (%.0f%% of it)\n' \
  "$seq_s" "$par_s" "$speedup" "$bound" "$(echo "100 * $speedup / $bound" | bc -l)"
