#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Memory of one running xoe service against a bare `trytond -c CONF` on a
# copy of the same database, after the same requests. Goal: within 10 MB.
# Side by side in one run, Tryton 7.0 on the bed's private PostgreSQL:
#   A  `xoe service create` (base modules; XOE_BENCH_MODULES=a,b for more):
#      what xoe runs for it under runit is runsv NAME and its children, the
#      server (chpst and env exec into trytond: no process of their own) and
#      svlogd. Counted: the VmRSS of runsv + every descendant of it, plus
#      the service's share of runsvdir (its RSS divided by the services it
#      supervises: 1 here, the worst case);
#   B  a bare trytond (the recipe's argv and environment, as root) on a copy
#      of the same template database, its admin password set the same way.
# Both get XOE_BENCH_ROUNDS (5) rounds of: a login, get_preferences and three
# search_read. Prints RSS (and PSS, which shares library pages fairly) of
# each side in MB, and A-B. Needs root and a build or xoe on PATH.
source "$(dirname "${BASH_SOURCE[0]}")/xoe-bench-lib.sh"
xb_setup
xb_fetch
tag=$XID
rounds=${XOE_BENCH_ROUNDS:-5}
mods=()
[[ -z ${XOE_BENCH_MODULES:-} ]] || mods=(--modules "$XOE_BENCH_MODULES")

# A: the xoe service.
a=mem-a-$tag
out=$(X service create "$a" --software tryton --version 7.0 --db-backend postgresql "${mods[@]}" --json)
show=$(X service show "$a" --json)
port=$(xoe_json 'd["service"]["port"]' <<<"$show")
a_line="$port $a $(xoe_json 'd["service"]["admin_password"]' <<<"$out")"
tpl=$(X service create "x-$tag" --software tryton --version 7.0 --db-backend postgresql "${mods[@]}" --dry-run --json \
  | xoe_json 'd["plan"]["template"]')

# B: a bare trytond on a copy of the same template.
b=mem_b_$tag
bdir=$BED_DIR/side-b
mkdir -p "$bdir"
bport=$(bed_free_port)
psql -X -q -c "CREATE DATABASE \"$b\" TEMPLATE \"$tpl\""
xb_conf "$bdir/trytond.conf" "$bport" "$bdir/data"
xb_passfile "$bdir/password"
xb_admin "$bdir/trytond.conf" "$b" "$bdir/password" -p
xb_start_trytond "$bdir/trytond.conf" "$bdir/trytond.log"
bpid=$XB_LAST_PID
b_line="$bport $b $(cat "$bdir/password")"
xb_wait_logins 120 <<<"$a_line"$'\n'"$b_line"

# The same requests on both, interleaved.
xb_requests "$rounds" <<<"$a_line"$'\n'"$b_line"
sleep 2

# kB of VmRSS or PSS (smaps_rollup) of one process.
rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }
pss_kb() { awk '/^Pss:/ { print $2 }' "/proc/$1/smaps_rollup"; }
descendants() {  # PID and all its descendants
  local p c
  echo "$1"
  for c in $(pgrep -P "$1"); do descendants "$c"; done
}
spid=$(X service status "$a" --json | xoe_json 'd["service"]["pid"]')
runsv=$(awk '{ print $4 }' "/proc/$spid/stat")
[[ $(cat "/proc/$runsv/comm") == runsv ]] || bed_fail "the parent of $a's server is not runsv: $(cat "/proc/$runsv/comm")"
runsvdir=$(awk '{ print $4 }' "/proc/$runsv/stat")
[[ $(cat "/proc/$runsvdir/comm") == runsvdir ]] || bed_fail "the parent of runsv is not runsvdir"
nsv=$(pgrep -c -P "$runsvdir" -x runsv)
tree=($(descendants "$runsv"))
a_rss=0 a_pss=0 detail=""
for p in "${tree[@]}"; do
  r=$(rss_kb "$p") s=$(pss_kb "$p")
  a_rss=$((a_rss + r)) a_pss=$((a_pss + s))
  detail+=" $(cat "/proc/$p/comm")=$((r / 1024))"
done
d_rss=$(rss_kb "$runsvdir") d_pss=$(pss_kb "$runsvdir")
a_rss=$((a_rss + d_rss / nsv)) a_pss=$((a_pss + d_pss / nsv))
detail+=" runsvdir/$nsv=$((d_rss / nsv / 1024))"
b_rss=$(rss_kb "$bpid") b_pss=$(pss_kb "$bpid")
b_tree=$(descendants "$bpid" | wc -l)
echo "bench: A's processes (RSS MB):$detail; B: $b_tree process(es)" >&2
echo "bench: server RSS alone: A $(( $(rss_kb "$spid") / 1024 )) MB, B $((b_rss / 1024)) MB" >&2

mb() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }
diff_rss=$(awk -v a="$a_rss" -v b="$b_rss" 'BEGIN { printf "%.1f", (a - b) / 1024 }')
diff_pss=$(awk -v a="$a_pss" -v b="$b_pss" 'BEGIN { printf "%.1f", (a - b) / 1024 }')
printf 'A xoe service (runsv tree + runsvdir share)   RSS %7s MB   PSS %7s MB\n' "$(mb "$a_rss")" "$(mb "$a_pss")"
printf 'B bare trytond                                RSS %7s MB   PSS %7s MB\n' "$(mb "$b_rss")" "$(mb "$b_pss")"
printf 'A-B                                           RSS %7s MB   PSS %7s MB   goal |A-B| <= 10 MB (RSS): %s\n' \
  "$diff_rss" "$diff_pss" "$(awk -v d="$diff_rss" 'BEGIN { print ((d < 0 ? -d : d) <= 10 ? "goal met" : "goal NOT met") }')"
X service remove "$a" >/dev/null
