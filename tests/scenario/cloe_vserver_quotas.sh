# SPDX-License-Identifier: GPL-3.0-or-later
# CPU quotas of vservers, measured on a real libvirt LXC (the bed's
# libvirtd, the cached template): two busy vservers on the same CPU with
# CPU shares 1024 and 512 get about 2:1 of it; a busy vserver capped at 25%
# of a CPU gets about a quarter of it. A busy loop runs 8 s inside each
# (entered by `cloe __enter`, so in the vserver's cgroups); its CPU time is
# read inside from its parent's cutime + cstime.
source "$OE_SOURCE_DIR/tests/cloe/lib.sh"
cloe_template
cloe_vservers
tpl=$CLOE_TEMPLATE storage=$CLOE_STORAGE
id=${BED_ID,,} base=$((200000 + 65536 * 3 * (RANDOM % 100)))
names=(qa-$id qb-$id qc-$id)
for n in qa qb qc; do cloe_vserver_name $n; done
# CPU seconds (ticks / 100) a busy loop of SECONDS used inside vserver NAME.
busy() {
  E "$1" sh -c 'timeout '"$2"' sh -c "while :; do :; done"; read -r l < /proc/$$/stat; set -- $l; echo $(( ${16} + ${17} ))'
}
vserver_probe up "$BED_LIBVIRT_URI" "$storage" "$tpl" "${names[0]}" "$base" 32 cpuset=0 shares=1024 || bed_fail "up ${names[0]}"
vserver_probe up "$BED_LIBVIRT_URI" "$storage" "$tpl" "${names[1]}" $((base + 65536)) 32 cpuset=0 shares=512 || bed_fail "up ${names[1]}"
vserver_probe up "$BED_LIBVIRT_URI" "$storage" "$tpl" "${names[2]}" $((base + 131072)) 32 cap=25 || bed_fail "up ${names[2]}"
for n in "${names[@]}"; do bed_wait 20 "a command inside $n" E "$n" true; done

busy "${names[0]}" 8 >"$BED_DIR/a" &
busy "${names[1]}" 8 >"$BED_DIR/b" &
wait
a=$(cat "$BED_DIR/a") b=$(cat "$BED_DIR/b")
((b > 0)) || bed_fail "no CPU time for ${names[1]}: $b"
ratio=$(echo "scale=2; $a / $b" | bc)
bed_log "shares 1024 vs 512 on one CPU: $a vs $b ticks, ratio $ratio"
(($(echo "$ratio >= 1.6 && $ratio <= 2.5" | bc))) || bed_fail "shares 1024:512 gave $a:$b ticks (ratio $ratio, want about 2)"
ok "CPU shares 1024:512 on one CPU: ratio $ratio"

c=$(busy "${names[2]}" 8)
share=$(echo "scale=3; $c / 800" | bc)
bed_log "cap 25%: $c ticks in 8 s ($share of a CPU)"
# At most a quarter; under other tests' load a little less.
(($(echo "$share >= 0.12 && $share <= 0.30" | bc))) || bed_fail "a 25% cap gave $share of a CPU"
ok "CPU cap 25%: $share of a CPU"
bed_log "all ok"
