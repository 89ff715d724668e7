# SPDX-License-Identifier: GPL-3.0-or-later
# `cloe vserver` on the referee's own node (node add --local) against the
# bed's private libvirtd, from the cached template of scenario.cloe_template:
# create (an address of the pool and its MAC, an id range, placement, the
# template recorded), a command inside as its root (uid 0 = host id
# id_base) at its address on the node bridge; a second one created without
# starting it, then started; list by group; set (CPU shares and cap, memory
# applied live, as libvirt reads them back; the disk grown online, as df
# inside shows); a clean stop (layers unmounted), a start that finds its
# files; destroy refused while it runs, then --force: nothing left, its
# address given to the next vserver; template remove refused while used. A
# create killed at each of its steps, resumed by the same command, or rolled
# back by destroy; a destroy killed half-way, finished by the next. Bad
# input: one line, the documented exit code, the inventory byte-identical.
source "$OE_SOURCE_DIR/tests/cloe/lib.sh"
cloe_template
cloe_vservers
bed_bridge vs
br=$BED_BRIDGE_VS hostip=$BED_BRIDGE_VS_IP
net=${hostip%.*}.0/24

R=$BED_DIR/root
mkdir -p "$R/var/lib/oe/cloe/templates"
# The cached template, as if built under this root (template build would take a minute).
ln -s "$CLOE_CACHE/var/lib/oe/cloe/templates/base" "$R/var/lib/oe/cloe/templates/base"
export OE_CLOE_LIBVIRT_URI=$BED_LIBVIRT_URI OE_CLOE_NETWORK_BRIDGE=$br OE_CLOE_LOCKS_WAIT=0
C() { cloe --root "$R" "$@"; }
json() { /usr/bin/python3 -c 'import json, sys; d = json.load(sys.stdin); print(eval(sys.argv[1]))' "$1"; }
db=$R/var/lib/oe/referee.db
id=${BED_ID,,}
a=a-$id b=b-$id c=c-$id k=k-$id
for n in a b c k; do cloe_vserver_name "$n"; done
# Whatever a failure leaves: cloe's own destroy first (it knows the mounts).
_down() { local n; for n in "$a" "$b" "$c" "$k"; do C vserver destroy "$n" --force >/dev/null 2>&1 || true; done; }
bed_on_exit _down

C cluster init t --network "$net" --gateway "$hostip" >/dev/null
C @t node add n0 --local --address "${hostip%.*}.2" --storage "ssd=$CLOE_STORAGE" --memory 2G --cpus 2 >/dev/null
pool_first=$(C cluster show t --json | json 'd["cluster"]["pool"]["first"]')
ok "cluster t on $net with the referee's own node n0 ($CLOE_STORAGE)"

# ---------------------------------------------------------------- create
t0=$SECONDS
out=$(C @t vserver create "$a" --memory 256M --disk 128M --group web --group g1 --json)
ok "vserver create $a in $((SECONDS - t0)) s"
bed_assert_eq "running running n0 $pool_first" "$(json 'd["vserver"]["state"]+" "+d["vserver"]["domain"]+" "+d["vserver"]["node"]+" "+d["vserver"]["ip"]' <<<"$out")" "state, node and address"
mac=$(json 'd["vserver"]["mac"]' <<<"$out")
bed_assert_eq "52:54:00:$(printf '%02x:%02x:%02x' $(tr . ' ' <<<"${pool_first#*.}"))" "$mac" "the MAC made from the address"
base=$(json 'd["vserver"]["id_base"]' <<<"$out")
((base >= 4194304 && base % 65536 == 0)) || bed_fail "id base $base"
bed_assert_eq "g1 web" "$(json '" ".join(d["vserver"]["groups"])' <<<"$out")" "groups"
E() { local n=$1; shift; cloe __enter "$BED_LIBVIRT_URI" "$n" "$@"; }
bed_assert_eq 0 "$(E "$a" id -u)" "uid inside"
bed_assert_eq "0 $base 65536" "$(E "$a" cat /proc/self/uid_map | tr -s ' ' | sed 's/^ //')" "uid map inside"
bed_assert_contains "$(E "$a" ip -4 -o addr show)" "inet $pool_first/24" "the address inside"
# The node's bridge address answers from inside (a closed port refuses: a reply).
bed_assert_contains "$(E "$a" bash -c "exec 3<>/dev/tcp/$hostip/1" 2>&1 || true)" "Connection refused" "a connection from $a to the node"
bed_assert_eq "base" "$(sqlite3 "$db" "select name from templates")" "the template recorded in the inventory"
bed_assert_eq 1 "$(C vserver list --cluster t --json | json 'len(d["vservers"])')" "vservers listed"
ok "$a: uid 0 inside = host id $base, its address $pool_first and MAC $mac on the node bridge"

out=$(C @t vserver create "$b" --memory 128M --disk 64M --cpu-shares 512 --group g2 --no-start --json)
bed_assert_eq "stopped shut off" "$(json 'd["vserver"]["state"]+" "+d["vserver"]["domain"]' <<<"$out")" "a vserver created with --no-start"
[[ -z $(findmnt -rn -o TARGET | grep -F "$CLOE_STORAGE/vservers/$b/" || true) ]] || bed_fail "mounts of $b, created stopped"
bbase=$(json 'd["vserver"]["id_base"]' <<<"$out") bip=$(json 'd["vserver"]["ip"]' <<<"$out")
[[ $bbase != "$base" && $bip != "$pool_first" ]] || bed_fail "$b shares the ids or the address of $a"
C @t vserver start "$b" >/dev/null
bed_assert_eq 0 "$(E "$b" id -u)" "a command inside $b after its start"
bed_assert_eq "$a" "$(C @t vserver list --group web --json | json '" ".join(v["name"] for v in d["vservers"])')" "list --group web"
bed_assert_eq "$b" "$(C @t vserver list --group g2 --json | json '" ".join(v["name"] for v in d["vservers"])')" "list --group g2"
bed_assert_eq "384M" "$(C @t node show n0 --json | json 'str(d["node"]["memory_used"] >> 20) + "M"')" "memory held on n0"
ok "$b created stopped, then started; groups listed; the node's memory counted"

# ---------------------------------------------------------------- set
out=$(C @t vserver set "$a" --cpu-shares 300 --cpu-max 50 --memory 320M --disk 192M --json)
bed_assert_eq "True cpu_shares,cpu_max,memory,disk disk" "$(json 'str(d["live"])+" "+",".join(d["changed"])+" "+",".join(d["pending"])' <<<"$out")" "set: what changed, live, pending"
sched=$(virsh -c "$BED_LIBVIRT_URI" schedinfo "$a")
bed_assert_contains "$sched" "cpu_shares     : 300" "CPU shares as libvirt reads them"
bed_assert_contains "$sched" "vcpu_quota     : 50000" "CPU cap as libvirt reads it"
bed_assert_contains "$(virsh -c "$BED_LIBVIRT_URI" memtune "$a")" "hard_limit     : 327680" "memory limit as libvirt reads it"
bed_assert_contains "$(virsh -c "$BED_LIBVIRT_URI" dumpxml --inactive "$a")" "<shares>300</shares>" "the definition keeps the shares"
bed_assert_eq "unchanged" "$(C @t vserver set "$a" --cpu-shares 300 | sed 's/.*: //')" "a set that changes nothing"
ok "set: shares, cap and memory applied live, the definition written, the disk pending"

# ---------------------------------------------------------------- stop, start
E "$a" sh -c 'echo kept > /root/mark'
out=$(C @t vserver stop "$a" --json)
bed_assert_eq "True False stopped shut off" "$(json 'str(d["was_running"])+" "+str(d["forced"])+" "+d["vserver"]["state"]+" "+d["vserver"]["domain"]' <<<"$out")" "clean stop"
[[ -z $(findmnt -rn -o TARGET | grep -F "$CLOE_STORAGE/vservers/$a/" || true) ]] || bed_fail "mounts left after the stop"
C @t vserver start "$a" >/dev/null
bed_assert_eq kept "$(E "$a" cat /root/mark)" "a file written before the stop"
size=$(E "$a" df -B1M --output=size / | tail -n 1 | tr -d ' ')
((size > 150)) || bed_fail "the disk inside is ${size}M after the change to 192M and a restart"
out=$(C @t vserver restart "$a" --json)
bed_assert_eq "True running" "$(json 'str(d["was_running"])+" "+d["vserver"]["domain"]' <<<"$out")" "restart"
ok "a clean stop unmounts its layers; start finds its files and the disk grown to ${size}M; restart"

# ---------------------------------------------------------------- bad input
sum() { sqlite3 "$db" .dump | sha256sum | cut -d' ' -f1; }  # the WAL's content too
before=$(sum)
nbad=0
expect() {  # expect CODE PART ARGS...: one line on stderr holding PART, the exit code, the inventory unchanged
  local code=$1 part=$2 rc=0 err
  shift 2
  C "$@" >/dev/null 2>"$BED_DIR/err" || rc=$?
  err=$(cat "$BED_DIR/err")
  bed_assert_eq "$code" "$rc" "exit of cloe $*"
  bed_assert_contains "$err" "$part" "error of cloe $*"
  bed_assert_eq 1 "$(grep -c . <<<"$err")" "lines of the error of cloe $*: $err"
  bed_assert_eq "$before" "$(sum)" "the inventory after cloe $*"
  ((++nbad))
}
expect 2 "vserver name" @t vserver create 'Bad_Name'
expect 2 "vserver name" @t vserver create 'x;rm -rf /'
expect 2 "vserver name" @t vserver create ../etc
expect 3 "no cluster nosuch" @nosuch vserver create "$c"
expect 3 "nosuch" @t vserver create "$c" --template nosuch
expect 2 "template name" @t vserver create "$c" --template ../base
expect 3 "no node nosuch" @t vserver create "$c" --node nosuch
expect 3 "no storage class sata" @t vserver create "$c" --node n0 --storage sata
expect 4 "no node of cluster t fits" @t vserver create "$c" --storage sata
expect 4 "no node of cluster t fits" @t vserver create "$c" --memory 64G
expect 4 "no node of cluster t fits" @t vserver create "$c" --disk 900T
expect 4 "no node of cluster t fits" @t vserver create "$c" --cpu-max 300
expect 2 "--memory '12x': not a size" @t vserver create "$c" --memory 12x
expect 2 "--memory 1M: at least 16M" @t vserver create "$c" --memory 1M
expect 2 "--disk 1M: at least 64M" @t vserver create "$c" --disk 1M
expect 2 "--disk '-5': not a size" @t vserver create "$c" --disk=-5
expect 2 "--cpu-shares 1: between 2 and 262144" @t vserver create "$c" --cpu-shares 1
expect 2 "--cpu-max -1" @t vserver create "$c" --cpu-max=-1
expect 2 "group 'Bad Group'" @t vserver create "$c" --group 'Bad Group'
expect 2 "--ip '300.1.1.1': not an IPv4 address" @t vserver create "$c" --ip 300.1.1.1
expect 2 "outside the pool" @t vserver create "$c" --ip "$hostip"
expect 4 "held by another vserver" @t vserver create "$c" --ip "$pool_first"
expect 4 "exists already" @t vserver create "$a"
expect 3 "no vserver nosuch" @t vserver show nosuch
expect 3 "no vserver nosuch" @t vserver start nosuch
expect 3 "no vserver nosuch" @t vserver stop nosuch
expect 3 "no vserver nosuch" @t vserver destroy nosuch
expect 3 "no vserver nosuch" @t vserver set nosuch --memory 1G
expect 2 "vserver name" @t vserver destroy '$(id)'
expect 4 "runs: stop it first, or destroy it with --force" @t vserver destroy "$a"
expect 2 "smaller than its disk" @t vserver set "$a" --disk 100M
expect 4 "cannot hold vserver $a" @t vserver set "$a" --memory 64G
expect 2 "--cpu-shares 0" @t vserver set "$a" --cpu-shares 0
expect 2 "--timeout 0" @t vserver stop "$a" --timeout 0
expect 3 "no cluster nosuch" @nosuch vserver list
expect 2 "group 'x y'" @t vserver list --group 'x y'
expect 4 "template base is used by 2 vserver(s)" template remove base
[[ -e $CLOE_CACHE/var/lib/oe/cloe/templates/base/rootfs/usr/bin ]] || bed_fail "the refused template remove removed files"
bed_assert_eq "running running" "$(C @t vserver show "$a" --json | json 'd["vserver"]["state"]+" "+d["vserver"]["domain"]')" "$a after the bad input"
ok "bad input: $nbad refusals, each one line with its exit code, the inventory byte-identical"

# ---------------------------------------------------------------- destroy
C @t vserver destroy "$a" --force >/dev/null
[[ -z $(virsh -c "$BED_LIBVIRT_URI" list --all --name | grep -Fx "$a" || true) ]] || bed_fail "the domain of $a is left"
[[ ! -e $CLOE_STORAGE/vservers/$a ]] || bed_fail "the folder of $a is left"
out=$(C @t vserver create "$c" --memory 128M --disk 64M --no-start --json)
bed_assert_eq "$pool_first $base" "$(json 'd["vserver"]["ip"]+" "+str(d["vserver"]["id_base"])' <<<"$out")" "the address and ids of $a given to $c"
C @t vserver destroy "$c" >/dev/null
ok "destroy --force: no domain, no folder; its address and ids free again"

# ---------------------------------------------------------------- crashes
leftovers() {  # leftovers NAME: nothing of NAME anywhere
  [[ -z $(virsh -c "$BED_LIBVIRT_URI" list --all --name | grep -Fx "$1" || true) ]] || bed_fail "domain $1 left"
  [[ -z $(findmnt -rn -o TARGET | grep -F "$CLOE_STORAGE/vservers/$1/" || true) ]] || bed_fail "mounts of $1 left"
  [[ ! -e $CLOE_STORAGE/vservers/$1 ]] || bed_fail "folder of $1 left"
  bed_assert_eq 0 "$(sqlite3 "$db" "select count(*) from vservers where name = '$1'")" "rows of $1"
}
for step in record template layers domain start ready; do
  for when in "" ":after"; do
    rc=0
    OE_CRASH_AT=cloe.vserver.create:$step$when C @t vserver create "$k" --memory 128M --disk 64M >/dev/null 2>&1 || rc=$?
    bed_assert_eq 137 "$rc" "create killed at $step$when"
    if [[ $step == start || $when == ":after" ]]; then
      # Resumed by the same command.
      C @t vserver create "$k" --memory 128M --disk 64M >/dev/null || bed_fail "the create killed at $step$when was not resumed"
      bed_assert_eq 0 "$(E "$k" id -u)" "a command inside $k after the resumed create ($step$when)"
      C @t vserver destroy "$k" --force >/dev/null
    else
      # Rolled back by destroy, or (killed before the record) nothing to destroy.
      if [[ -n $(sqlite3 "$db" "select 1 from vservers where name = '$k'") ]]; then
        C @t vserver destroy "$k" >/dev/null || bed_fail "destroy after a create killed at $step$when"
      fi
    fi
    leftovers "$k"
  done
done
ok "create killed at each step: resumed by the same command, or rolled back by destroy; nothing left"
C @t vserver create "$k" --memory 128M --disk 64M >/dev/null
for step in mark domain layers forget; do
  C @t vserver create "$k" --memory 128M --disk 64M >/dev/null 2>&1 || true
  rc=0
  OE_CRASH_AT=cloe.vserver.destroy:$step C @t vserver destroy "$k" --force >/dev/null 2>&1 || rc=$?
  bed_assert_eq 137 "$rc" "destroy killed at $step"
  C @t vserver destroy "$k" --force >/dev/null || bed_fail "the destroy killed at $step was not finished"
  leftovers "$k"
done
ok "destroy killed at each step: finished by the next one; nothing left"

# A set killed at each step (a stopped vserver: its disk grows at once) is
# finished by the next set of that vserver, whatever that one asks for.
C @t vserver stop "$b" >/dev/null
mem=128 disk=64  # what $b has
for step in record record:after disk disk:after define define:after live live:after layers.grow; do
  rc=0 crash=cloe.vserver.set:$step grow=8
  [[ $step == layers.grow ]] && crash=cloe.layers.grow:resize grow=64
  OE_CRASH_AT=$crash C @t vserver set "$b" --memory $((mem + 16))M --disk $((disk + grow))M >/dev/null 2>&1 || rc=$?
  bed_assert_eq 137 "$rc" "set killed at $step"
  # Killed before it wrote the inventory: nothing changed; otherwise the next set finishes it.
  [[ $step == record ]] || { mem=$((mem + 16)) disk=$((disk + grow)); }
  shares=$((400 + mem))
  C @t vserver set "$b" --cpu-shares $shares >/dev/null || bed_fail "the set after one killed at $step"
  bed_assert_eq "$((mem << 20)) $shares $((disk << 20))" \
    "$(sqlite3 -separator ' ' "$db" "select memory, cpu_shares, disk from vservers where name = '$b'")" \
    "the inventory after a set killed at $step"
  xml=$(virsh -c "$BED_LIBVIRT_URI" dumpxml --inactive "$b")
  bed_assert_contains "$xml" "<memory unit='KiB'>$((mem << 10))</memory>" "the definition's memory after a set killed at $step"
  bed_assert_contains "$xml" "<shares>$shares</shares>" "the definition's shares after a set killed at $step"
done
C @t vserver start "$b" >/dev/null
size=$(E "$b" df -B1M --output=size / | tail -n 1 | tr -d ' ')
# (the filesystem's own blocks aside: without the last growth's resize it would be under $((disk - 64))M)
((size > disk - 32)) || bed_fail "the disk inside $b is ${size}M after sets killed on their way to ${disk}M"
[[ -z $(find "$CLOE_STORAGE/vservers/$b" -maxdepth 1 -name '*.growing') ]] || bed_fail "a growth mark left in $b"
ok "set killed at each step (and in the disk's growth): finished by the next set; the disk ${size}M"

C @t vserver destroy "$b" --force >/dev/null
leftovers "$b"
[[ -z $(findmnt -rn -o TARGET | grep -F "$CLOE_STORAGE/" || true) ]] || bed_fail "mounts left: $(findmnt -rn -o TARGET | grep -F "$CLOE_STORAGE/")"
bed_assert_eq 0 "$(sqlite3 "$db" "select count(*) from vservers")" "vservers left in the inventory"
bed_log "all ok"
