# SPDX-License-Identifier: GPL-3.0-or-later
# Vservers on a node reached over SSH (docs/cloe.md, Remote nodes): a bed
# node n1 (a network namespace with its own sshd and libvirtd, its own node
# bridge enslaving its link to the bed's bridge: the vserver network spans
# the referee and n1) added over real SSH with its pinned key, beside the
# referee's own node n0 (node add --local). On n1: the template copied by
# rsync over the multiplexed SSH into node.templates (not the referee's
# folder), once (a second vserver finds its checksum there); a vserver whose
# domain is in n1's libvirtd (not the referee's), a command inside answering
# as its root with its hostname, reached from the referee at its address;
# set (live, as n1's libvirt reads it), show, list, stop (nothing mounted
# on n1), start, restart; cloe xoe and service list through xoe inside (with
# the template xoe, built in the test cache as scenario.cloe_xoe does); --node auto choosing n1
# when n0 is drained; creates on n1 killed at its steps, rolled back or
# resumed, nothing left; no cloe at node.binary on n1: refused, exit 6. A group command across a vserver on n0 and one on n1,
# one of which fails (exit 1), and a run killed after the first, resumed.
# n1's sshd stopped: one line, exit 5, the inventory byte-identical. At the
# end nothing is left on n1: no domain, mount, loop device or folder.
source "$OE_SOURCE_DIR/tests/cloe/lib.sh"
cloe_template
cloe_vservers
bed_bridge vs
br=$BED_BRIDGE_VS hostip=$BED_BRIDGE_VS_IP
net=${hostip%.*}.0/24
bed_node n1
ip=$BED_NODE_N1_IP
N1() { bed_node_exec n1 "$@"; }
V1() { virsh -c "$BED_NODE_N1_LOCAL_URI" "$@"; }
# n1's node bridge: the same name as the referee's (its own network
# namespace), its link to the bed's bridge enslaved, its address moved onto it.
N1 ip link add "$br" type bridge
N1 ip link set "$br" up
N1 ip addr del "$ip/24" dev eth0
N1 ip link set eth0 master "$br"
N1 ip addr add "$ip/24" dev "$br"
N1 ip route add default via "$hostip"
bed_wait_port "$ip" 22 10

R=$BED_DIR/root
mkdir -p "$R/var/lib/oe/cloe/templates"
ln -s "$CLOE_CACHE/var/lib/oe/cloe/templates/base" "$R/var/lib/oe/cloe/templates/base"
# The template xoe of this build (as scenario.cloe_xoe makes it), built in the
# cache under its lock: every test of one run then sees the same tree.
cloe_repo
(
  flock 9
  cloe --root "$CLOE_CACHE" template build xoe --repository "$CLOE_REPO" >/dev/null
) 9>"$CLOE_CACHE/.test-lock" || bed_fail "template build xoe"
ln -s "$CLOE_CACHE/var/lib/oe/cloe/templates/xoe" "$R/var/lib/oe/cloe/templates/xoe"
tpl1=xoe
n1storage=$BED_DIR/n1-storage n1templates=$BED_DIR/n1-templates
mkdir -p "$n1storage"
export OE_CLOE_LIBVIRT_URI=$BED_LIBVIRT_URI OE_CLOE_NETWORK_BRIDGE=$br OE_CLOE_LOCKS_WAIT=0
export OE_CLOE_SSH_IDENTITY=$BED_SSH_KEY OE_CLOE_NODE_BINARY=$OE_BUILD_DIR/bin/cloe OE_CLOE_NODE_TEMPLATES=$n1templates
C() { cloe --root "$R" "$@"; }
json() { /usr/bin/python3 -c 'import json, sys; d = json.load(sys.stdin); print(eval(sys.argv[1]))' "$1"; }
db=$R/var/lib/oe/referee.db
id=${BED_ID,,}
a=ra-$id b=rb-$id c=rc-$id d=rd-$id
for n in ra rb rc rd; do cloe_vserver_name "$n"; done
_sshd_up() {  # n1's sshd as bed_node starts it, when it is not running
  (exec 3<>"/dev/tcp/$ip/22") 2>/dev/null && return 0
  N1 /usr/sbin/sshd -f "$BED_DIR/ssh/sshd_config" -o Port=22 -o "ListenAddress=$ip" \
    -o "PidFile=$BED_NODE_N1_DIR/sshd.pid" -E "$BED_NODE_N1_DIR/sshd.log"
  bed_wait_port "$ip" 22 10
}
# Whatever a failure leaves: cloe's own destroy first (it knows the mounts),
# with n1's sshd up; then the bed takes n1 down with all it holds.
_down() {
  local n
  _sshd_up || true
  for n in "$a" "$b" "$c" "$d"; do C vserver destroy "$n" --force >/dev/null 2>&1 || true; done
}
bed_on_exit _down

C cluster init t --network "$net" --gateway "$hostip" >/dev/null
C @t node add n0 --local --address "${hostip%.*}.2" --storage "ssd=$CLOE_STORAGE" --memory 2G --cpus 2 >/dev/null
want=$(ssh-keygen -l -E sha256 -f "$BED_DIR/ssh/host_ed25519.pub" | cut -d' ' -f2)
C @t node add n1 --address "$ip" --storage "ssd=$n1storage" --accept-host-key "$want" >/dev/null
bed_assert_eq "local ssh" "$(C @t node list --json | json '" ".join(n["transport"] for n in d["nodes"])')" "n0 local, n1 over SSH"
ok "cluster t: the referee's own node n0 and n1 ($ip) over SSH with its pinned key"

# nothing_on_n1 NAME: no domain, mount, loop device or folder of NAME on n1.
nothing_on_n1() {
  [[ -z $(V1 list --all --name | grep -Fx "$1" || true) ]] || bed_fail "domain $1 left on n1"
  [[ -z $(N1 findmnt -rn -o TARGET | grep -F "$n1storage/vservers/$1/" || true) ]] || bed_fail "mounts of $1 left on n1"
  [[ -z $(losetup -j "$n1storage/vservers/$1/disk.img" 2>/dev/null) ]] || bed_fail "loop device of $1 left"
  [[ ! -e $n1storage/vservers/$1 ]] || bed_fail "folder of $1 left on n1"
}

# ---------------------------------------------------------------- create on n1
t0=$SECONDS
out=$(C -v @t vserver create "$b" --node n1 --template "$tpl1" --memory 256M --disk 128M --group g --json 2>"$BED_DIR/create.log") \
  || { cat "$BED_DIR/create.log" >&2; bed_fail "vserver create $b --node n1"; }
bed_log "vserver create $b on n1 (template $tpl1 copied) in $((SECONDS - t0)) s"
bed_assert_eq "running running n1" "$(json 'd["vserver"]["state"]+" "+d["vserver"]["domain"]+" "+d["vserver"]["node"]' <<<"$out")" "state and node"
bip=$(json 'd["vserver"]["ip"]' <<<"$out") bbase=$(json 'd["vserver"]["id_base"]' <<<"$out")
bed_assert_contains "$(cat "$BED_DIR/create.log")" "template $tpl1 copied to node n1" "the copy, logged"
bed_assert_eq "$(json 'd["checksum"]' <"$R/var/lib/oe/cloe/templates/$tpl1/template.json")" \
  "$(json 'd["checksum"]' <"$n1templates/$tpl1/template.json")" "the template's checksum on n1"
[[ -x $n1templates/$tpl1/rootfs/sbin/runit-init || -e $n1templates/$tpl1/rootfs/sbin/init ]] || bed_fail "no init in the copied tree"
bed_assert_eq "$(stat -c %u:%g "$CLOE_CACHE/var/lib/oe/cloe/templates/$tpl1/rootfs/etc/shadow")" \
  "$(stat -c %u:%g "$n1templates/$tpl1/rootfs/etc/shadow")" "owners kept by the copy"
# Its domain is in n1's libvirtd, not in the referee's.
bed_assert_eq "$b" "$(V1 list --name | grep -Fx "$b" || true)" "the domain in n1's libvirtd"
[[ -z $(virsh -c "$BED_LIBVIRT_URI" list --all --name | grep -Fx "$b" || true) ]] || bed_fail "$b is in the referee's libvirtd"
[[ -n $(N1 findmnt -rn -o TARGET | grep -F "$n1storage/vservers/$b/root" || true) ]] || bed_fail "no overlay of $b in n1's mounts"
[[ -z $(findmnt -rn -o TARGET | grep -F "$n1storage/" || true) ]] || bed_fail "mounts of n1 seen on the referee"
# A command inside, as its root, through cloe command (over SSH).
bed_assert_eq "$b:0:$b" "$(C @t command "$b" --json -- hostname | json '" ".join(r["vserver"]+":"+str(r["exit"])+":"+r["stdout"].strip() for r in d["results"])')" "hostname inside"
bed_assert_eq "0" "$(C @t command "$b" --json -- id -u | json 'd["results"][0]["stdout"].strip()')" "uid 0 inside"
bed_assert_eq "0 $bbase 65536" "$(C @t command "$b" --json -- cat /proc/self/uid_map | json '" ".join(d["results"][0]["stdout"].split())')" "its id map"
# Reached from the referee at its address (a closed port refuses: a reply from inside).
bed_assert_contains "$(bash -c "exec 3<>/dev/tcp/$bip/1" 2>&1 || true)" "Connection refused" "a connection from the referee to $b at $bip"
ok "$b on n1: template copied there, domain in n1's libvirtd, hostname inside, reached at $bip"

# A second vserver of the same template on n1: the copy is not made again.
m0=$(stat -c %y "$n1templates/$tpl1/template.json")
out=$(C -v @t vserver create "$c" --node n1 --template "$tpl1" --memory 128M --disk 64M --no-start --json 2>"$BED_DIR/create2.log")
[[ $(cat "$BED_DIR/create2.log") != *"copied to node n1"* ]] || bed_fail "the template was copied again: $(cat "$BED_DIR/create2.log")"
bed_assert_eq "stopped shut off" "$(json 'd["vserver"]["state"]+" "+d["vserver"]["domain"]' <<<"$out")" "$c created stopped"
[[ -z $(N1 findmnt -rn -o TARGET | grep -F "$n1storage/vservers/$c/" || true) ]] || bed_fail "mounts of $c, created stopped, on n1"
[[ -z $(losetup -j "$n1storage/vservers/$c/disk.img") ]] || bed_fail "loop device of $c, created stopped"
bed_assert_eq "$m0" "$(stat -c %y "$n1templates/$tpl1/template.json")" "the template.json on n1 untouched by the second create"
# Another build on n1 (another checksum in its template.json): not copied
# over while $b uses it (exit 4, one line, nothing changed).
tj=$n1templates/$tpl1/template.json
cp "$tj" "$BED_DIR/template.json.good"
/usr/bin/python3 -c 'import json, sys; f = sys.argv[1]; d = json.load(open(f)); d["checksum"] = "0" * 64; json.dump(d, open(f, "w"))' "$tj"
mounts0=$(N1 findmnt -rn -o TARGET | grep -F "$n1storage/" || true)
rc=0
C @t vserver start "$c" >/dev/null 2>"$BED_DIR/err" || rc=$?
bed_assert_eq 4 "$rc" "exit of a start whose template on n1 is another build used by $b"
bed_assert_contains "$(cat "$BED_DIR/err")" "template $tpl1 on node n1 is another build than the referee's (checksum 000000000000" "its error"
bed_assert_contains "$(cat "$BED_DIR/err")" "while $b use(s) it" "its error names the user"
bed_assert_eq 1 "$(grep -c . "$BED_DIR/err")" "one line"
bed_assert_eq "stopped shut off" "$(C @t vserver show "$c" --json | json 'd["vserver"]["state"]+" "+d["vserver"]["domain"]')" "$c unchanged"
bed_assert_eq "$mounts0" "$(N1 findmnt -rn -o TARGET | grep -F "$n1storage/" || true)" "n1's mounts after the refused start"
cp "$BED_DIR/template.json.good" "$tj"
C @t vserver start "$c" >/dev/null
bed_assert_eq "$c" "$(C @t command "$c" --json -- hostname | json 'd["results"][0]["stdout"].strip()')" "hostname inside $c"
out=$(C @t vserver stop "$c" --json)
bed_assert_eq "True stopped shut off" "$(json 'str(d["was_running"])+" "+d["vserver"]["state"]+" "+d["vserver"]["domain"]' <<<"$out")" "clean stop of $c"
[[ -z $(N1 findmnt -rn -o TARGET | grep -F "$n1storage/vservers/$c/" || true) ]] || bed_fail "mounts of $c left on n1 after its stop"
[[ -z $(losetup -j "$n1storage/vservers/$c/disk.img") ]] || bed_fail "loop device of $c left after its stop"
ok "$c: the template found on n1 by its checksum (no copy), another build there not copied over while used; start, clean stop (nothing mounted on n1)"

# ---------------------------------------------------------------- set, show, list, restart
out=$(C @t vserver set "$b" --cpu-shares 300 --memory 320M --json)
bed_assert_eq "True" "$(json 'str(d["live"])' <<<"$out")" "set live"
bed_assert_contains "$(V1 schedinfo "$b")" "cpu_shares     : 300" "CPU shares as n1's libvirt reads them"
bed_assert_contains "$(V1 memtune "$b")" "hard_limit     : 327680" "memory limit as n1's libvirt reads it"
bed_assert_eq "n1 running" "$(C @t vserver show "$b" --json | json 'd["vserver"]["node"]+" "+d["vserver"]["domain"]')" "show"
bed_assert_eq "$b:running $c:shut off" "$(C @t vserver list --node n1 --json | json '" ".join(v["name"]+":"+v["domain"] for v in d["vservers"])')" "list --node n1"
C @t command "$b" -- sh -c 'echo kept > /root/mark' >/dev/null
out=$(C @t vserver restart "$b" --json)
bed_assert_eq "True running" "$(json 'str(d["was_running"])+" "+d["vserver"]["domain"]' <<<"$out")" "restart"
bed_assert_eq kept "$(C @t command "$b" --json -- cat /root/mark | json 'd["results"][0]["stdout"].strip()')" "a file written before the restart"
ok "set (live on n1), show, list, restart of $b keeps its files"

# ---------------------------------------------------------------- xoe inside, over SSH
if [[ $tpl1 == xoe ]]; then
  bed_assert_contains "$(C @t xoe "$b" -- --version)" "xoe " "xoe --version inside $b on n1"
  rc=0; err=$(C @t xoe "$b" -- service show nope 2>&1 >/dev/null) || rc=$?
  bed_assert_eq 3 "$rc" "xoe's exit code through cloe xoe on n1"
  out=$(C @t service list "$b" --json) || bed_fail "service list $b exited $?"
  bed_assert_eq "0 0" "$(json 'str(len(d["services"]))+" "+str(len(d["problems"]))' <<<"$out")" "service list of $b"
  ok "cloe xoe and service list on n1: xoe's output and exit code through the typed client"
fi

# ---------------------------------------------------------------- a group across n0 and n1
C @t vserver create "$a" --node n0 --memory 128M --disk 64M --group g >/dev/null
C @t command "$b" -- touch /root/marker >/dev/null
rc=0
out=$(C @t command g --json -- sh -c 'test -e /root/marker && hostname') || rc=$?
bed_assert_eq 1 "$rc" "exit when the vserver on n0 fails"
bed_assert_eq "$a:n0:1: $b:n1:0:$b" \
  "$(json '" ".join(r["vserver"]+":"+r["node"]+":"+str(r["exit"])+":"+r["stdout"].strip() for r in d["results"])' <<<"$out")" \
  "per-vserver results on both nodes"
rc=0
OE_CRASH_AT=cloe.command:$b C -v @t command g -- sh -c 'echo run >> /root/runs' >/dev/null 2>"$BED_DIR/killed" || rc=$?
bed_assert_eq 137 "$rc" "a run killed before the vserver on n1"
cjob=$(sqlite3 "$db" "select max(id) from job where kind = 'cloe.command'")
counts() { C @t command g --json -- sh -c 'cat /root/runs 2>/dev/null | wc -l' | json '" ".join(r["stdout"].strip() for r in d["results"])'; }
bed_assert_eq "1 0" "$(counts)" "lines after the killed run"
out=$(C @t command g --resume "$cjob" --json)
bed_assert_eq "1 1" "$(counts)" "lines after --resume: only the vserver on n1 ran"
bed_assert_eq "$cjob True True False" "$(json 'str(d["job"])+" "+str(d["ok"])+" "+" ".join(str(r["resumed"]) for r in d["results"])' <<<"$out")" "the resumed job"
ok "group g across n0 and n1: one fails (exit 1); killed after $a, --resume $cjob ran only $b"

# ---------------------------------------------------------------- --node auto
C @t node drain n0 >/dev/null
out=$(C @t vserver create "$d" --node auto --memory 128M --disk 64M --no-start --json)
bed_assert_eq "n1" "$(json 'd["vserver"]["node"]' <<<"$out")" "--node auto with n0 drained"
C @t vserver destroy "$d" >/dev/null
C @t node drain n0 --undo >/dev/null
nothing_on_n1 "$d"
ok "--node auto places on n1 (n0 drained); destroyed, nothing left"

# ---------------------------------------------------------------- killed creates on n1
for step in template layers domain start; do
  rc=0
  OE_CRASH_AT=cloe.vserver.create:$step C @t vserver create "$d" --node n1 --template "$tpl1" --memory 128M --disk 64M >/dev/null 2>&1 || rc=$?
  bed_assert_eq 137 "$rc" "create on n1 killed at $step"
  if [[ $step == start ]]; then
    C @t vserver create "$d" --node n1 --template "$tpl1" --memory 128M --disk 64M >/dev/null || bed_fail "the create killed at $step was not resumed"
    bed_assert_eq "$d" "$(C @t command "$d" --json -- hostname | json 'd["results"][0]["stdout"].strip()')" "hostname inside $d after the resumed create"
    C @t vserver destroy "$d" --force >/dev/null
  else
    C @t vserver destroy "$d" >/dev/null || bed_fail "destroy after a create on n1 killed at $step"
  fi
  nothing_on_n1 "$d"
  bed_assert_eq 0 "$(sqlite3 "$db" "select count(*) from vservers where name = '$d'")" "rows of $d"
done
ok "creates on n1 killed at template, layers, domain, start: rolled back by destroy or resumed; nothing left on n1"

# ---------------------------------------------------------------- no cloe on n1
sum() { sqlite3 "$db" .dump | sha256sum | cut -d' ' -f1; }
before=$(sum)
rc=0
OE_CLOE_NODE_BINARY=$BED_DIR/no-such-cloe C @t vserver create "$d" --node n1 --template "$tpl1" >/dev/null 2>"$BED_DIR/err" || rc=$?
bed_assert_eq 6 "$rc" "exit of a create on n1 without cloe there"
bed_assert_contains "$(cat "$BED_DIR/err")" "node n1: $BED_DIR/no-such-cloe does not answer as cloe's node side (not found" "its error"
bed_assert_eq 1 "$(grep -c . "$BED_DIR/err")" "one line"
bed_assert_eq "$before" "$(sum)" "the inventory after the refused create"
nothing_on_n1 "$d"
ok "no cloe at node.binary on n1: a create is refused (exit 6), nothing changed"

# ---------------------------------------------------------------- n1's sshd stopped
for p in $(ip netns pids "$BED_NODE_N1_NS"); do
  [[ $(cat "/proc/$p/comm" 2>/dev/null) == sshd ]] && kill "$p"
done
bed_wait 10 "n1's sshd gone" bash -c "! (exec 3<>/dev/tcp/$ip/22)"
# The referee's multiplexing master went with its session.
bed_wait 10 "no control master left" bash -c "! ls '$R/run/oe/cloe/ssh/' 2>/dev/null | grep -q ."
before=$(sum)
down() {  # down ARGS...: one line naming n1, exit 5, the inventory unchanged
  local rc=0 err
  C "$@" >/dev/null 2>"$BED_DIR/err" || rc=$?
  err=$(cat "$BED_DIR/err")
  bed_assert_eq 5 "$rc" "exit of cloe $* with n1 down"
  bed_assert_contains "$err" "node n1 ($ip) does not answer over ssh" "error of cloe $*"
  bed_assert_eq 1 "$(grep -c . <<<"$err")" "lines of the error of cloe $*: $err"
  bed_assert_eq "$before" "$(sum)" "the inventory after cloe $*"
}
down @t vserver create "$d" --node n1 --memory 128M --disk 64M
down @t vserver stop "$b"
down @t vserver start "$c"
down @t vserver destroy "$c"
down @t vserver destroy "$b" --force
down @t vserver restart "$b"
down @t vserver set "$b" --cpu-shares 400
bed_assert_eq "unknown" "$(C @t vserver show "$b" --json | json 'd["vserver"]["domain"]')" "show with n1 down"
rc=0
out=$(C @t command "$b" --json -- true) || rc=$?
bed_assert_eq 1 "$rc" "a command on a vserver of n1 down"
bed_assert_eq "-1 False" "$(json 'str(d["results"][0]["exit"])+" "+str(d["results"][0]["ran"])' <<<"$out")" "its result: nothing run"
bed_assert_contains "$(json 'd["results"][0]["stderr"]' <<<"$out")" "does not run (libvirt: unknown)" "its reason"
_sshd_up
bed_assert_eq "$b" "$(C @t command "$b" --json -- hostname | json 'd["results"][0]["stdout"].strip()')" "$b answers again once sshd is back"
ok "n1's sshd stopped: one line, exit 5, the inventory unchanged; the vserver answers once it is back"

# ---------------------------------------------------------------- destroy: nothing left on n1
C @t vserver destroy "$b" --force >/dev/null
C @t vserver destroy "$c" >/dev/null
C @t vserver destroy "$a" --force >/dev/null
nothing_on_n1 "$b"
nothing_on_n1 "$c"
[[ -z $(N1 findmnt -rn -o TARGET | grep -F "$n1storage/" || true) ]] || bed_fail "mounts left on n1: $(N1 findmnt -rn -o TARGET | grep -F "$n1storage/")"
bed_assert_eq "" "$(V1 list --all --name | grep . || true)" "domains left on n1"
bed_assert_eq 0 "$(sqlite3 "$db" "select count(*) from vservers")" "vservers left in the inventory"
ok "destroy: no domain, mount, loop device or folder left on n1"

# Another build on n1 that no vserver uses any more: copied over by the next create.
/usr/bin/python3 -c 'import json, sys; f = sys.argv[1]; d = json.load(open(f)); d["checksum"] = "0" * 64; json.dump(d, open(f, "w"))' "$tj"
C -v @t vserver create "$d" --node n1 --template "$tpl1" --memory 128M --disk 64M --no-start >/dev/null 2>"$BED_DIR/create3.log"
bed_assert_contains "$(cat "$BED_DIR/create3.log")" "template $tpl1 copied to node n1" "a copy over another, unused build"
bed_assert_eq "$(json 'd["checksum"]' <"$R/var/lib/oe/cloe/templates/$tpl1/template.json")" "$(json 'd["checksum"]' <"$tj")" \
  "the checksum on n1 after the new copy"
C @t vserver destroy "$d" >/dev/null
nothing_on_n1 "$d"
bed_assert_eq "" "$(V1 list --all --name | grep . || true)" "domains left on n1 at the end"
ok "another build on n1, unused: copied over by the next create"
bed_log "all ok"
