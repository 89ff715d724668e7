# SPDX-License-Identifier: GPL-3.0-or-later
# cloe node install-host on a node reached over SSH (docs/cloe.md, Nodes): a
# fresh bed node n1 (a network namespace with its own sshd and libvirtd, its
# link eth0 on the bed's bridge holding its address and default route), added
# with its pinned host key. `--dry-run --uplink eth0` plans the bridge and
# changes nothing on n1; then install-host --uplink eth0 makes the node
# bridge, enslaves eth0 to it and moves the node's address and default route
# onto it, in one run over the very SSH session that address carries: the
# session goes on and the next steps (storage) are made over it. A second run
# changes nothing and says so. The bridge now spans the referee and n1: an
# address on the referee's side of the network reaches one on n1's bridge
# (a veth standing for a vserver). Bad input: an unknown link, a name that is
# no link name, the bridge itself, a link that is another bridge's port: one
# line, the documented exit code, nothing changed on n1.
source "$OE_SOURCE_DIR/tests/cloe/lib.sh"
bed_bridge vs
hostip=$BED_BRIDGE_VS_IP
net=${hostip%.*}.0/24
bed_node n1
ip=$BED_NODE_N1_IP
N1() { bed_node_exec n1 "$@"; }
br=oebr$BED_ID  # n1's node bridge (its own network namespace)
br=${br:0:15}
R=$BED_DIR/root
n1storage=$BED_DIR/n1-storage
mkdir -p "$R" "$n1storage"
export OE_CLOE_NETWORK_BRIDGE=$br OE_CLOE_LOCKS_WAIT=0 OE_CLOE_SSH_IDENTITY=$BED_SSH_KEY
export OE_CLOE_NODE_BINARY=$OE_BUILD_DIR/bin/cloe
C() { cloe --root "$R" "$@"; }
json() { /usr/bin/python3 -c 'import json, sys; d = json.load(sys.stdin); print(eval(sys.argv[1]))' "$1"; }
links() { N1 ip -br link show | awk '{print $1, $2}' | sort; N1 ip -4 -br addr show | sort; N1 ip route show | sort; }

C cluster init t --network "$net" --gateway "$hostip" >/dev/null
want=$(ssh-keygen -l -E sha256 -f "$BED_DIR/ssh/host_ed25519.pub" | cut -d' ' -f2)
C @t node add n1 --address "$ip" --storage "ssd=$n1storage" --accept-host-key "$want" >/dev/null

# ---------------------------------------------------------------- dry run
before=$(links)
out=$(C @t node install-host n1 --uplink eth0 --dry-run --json)
bed_assert_eq "True True" "$(json 'str(d["dry_run"])+" "+str(d["changed"])' <<<"$out")" "a dry run plans changes"
plan=$(json '[s["detail"] for s in d["steps"] if s["step"] == "bridge"][0]' <<<"$out")
bed_assert_contains "$plan" "would make: created $br, $ip/24 moved from eth0, eth0 enslaved, route default via $hostip" "the bridge's plan"
bed_assert_eq "$before" "$(links)" "n1's links, addresses and routes after the dry run"
[[ ! -e $n1storage/vservers ]] || bed_fail "the dry run made the storage folder"
ok "--dry-run --uplink eth0: the bridge planned ($plan), nothing changed on n1"

# ---------------------------------------------------------------- bad input
expect() {  # expect CODE TEXT ARGS...: one line naming the problem, nothing changed on n1
  local code=$1 text=$2 rc=0 err
  shift 2
  err=$(C @t node install-host n1 "$@" 2>&1 >/dev/null) || rc=$?
  bed_assert_eq "$code" "$rc" "exit code of install-host $*"
  bed_assert_eq 1 "$(wc -l <<<"$err")" "one line for install-host $*: $err"
  bed_assert_contains "$err" "$text" "the error of install-host $*"
  bed_assert_eq "$before" "$(links)" "n1 after install-host $*"
}
expect 3 "node n1: no link nosuch0 (--uplink)" --uplink nosuch0
expect 2 "--uplink eth0;reboot: not a link name" --uplink 'eth0;reboot'
expect 2 "--uplink a b: not a link name" --uplink 'a b'
expect 2 "--uplink $br: that is the bridge itself" --uplink "$br"
N1 ip link add oetother type bridge
N1 ip link add oetp0 type veth peer name oetp1
N1 ip link set oetp0 master oetother
before=$(links)
expect 4 "node n1: oetp0 is already a port of oetother" --uplink oetp0
N1 ip link del oetp0
N1 ip link del oetother
before=$(links)
ok "bad uplinks: one line each, exit 3, 2 or 4, nothing changed on n1"

# ---------------------------------------------------------------- install
out=$(C -v @t node install-host n1 --uplink eth0 --json 2>"$BED_DIR/install.log") \
  || { cat "$BED_DIR/install.log" >&2; bed_fail "install-host n1 --uplink eth0"; }
bed_assert_eq "False True" "$(json 'str(d["dry_run"])+" "+str(d["changed"])' <<<"$out")" "install-host changed n1"
bed_assert_eq "$br" "$(N1 ip -j link show eth0 | json 'd[0].get("master", "")')" "eth0's master on n1"
bed_assert_eq "" "$(N1 ip -4 -j addr show dev eth0 | json '" ".join(a["local"] for l in d for a in l["addr_info"])')" "addresses left on eth0"
bed_assert_eq "$ip/24" "$(N1 ip -4 -j addr show dev "$br" | json '" ".join(a["local"]+"/"+str(a["prefixlen"]) for l in d for a in l["addr_info"])')" "the node's address on $br"
bed_assert_contains "$(N1 ip route show default)" "default via $hostip dev $br" "n1's default route"
[[ $(stat -c %a "$n1storage/vservers") == 711 ]] || bed_fail "storage folder on n1: $(stat -c %a "$n1storage/vservers" 2>&1)"
bed_assert_contains "$(json '[s["detail"] for s in d["steps"] if s["step"] == "storage"][0]' <<<"$out")" "made ssd $n1storage/vservers" \
  "the storage step ran after the move, over the same SSH"
ok "install-host --uplink eth0: $br holds $ip/24 and the default route, eth0 its port; storage made after it over SSH"

out=$(C @t node install-host n1 --uplink eth0)
bed_assert_contains "$out" "ready, nothing changed" "a second install-host --uplink eth0"
bed_assert_contains "$out" "$br up with $ip/24, eth0 its port" "what the second run found"
bed_assert_contains "$(C @t node install-host n1)" "ready, nothing changed" "install-host without --uplink after it"
ok "a second run (with or without --uplink) changes nothing and says so"

# ---------------------------------------------------------------- spanning
# A veth on n1's bridge stands for a vserver there; the referee's side of the
# network (the bed's bridge) reaches it at its own address.
vip=${hostip%.*}.77 vns=oet$BED_ID-v
ip netns add "$vns"
bed_on_exit ip netns del "$vns"
ip -n "$BED_NODE_N1_NS" link add oetv0 type veth peer name oetv1 netns "$vns"
ip -n "$BED_NODE_N1_NS" link set oetv0 master "$br" up
ip -n "$vns" addr add "$vip/24" dev oetv1
ip -n "$vns" link set oetv1 up
# A closed port refuses: the reply comes from behind n1's bridge.
bed_assert_contains "$(timeout 10 bash -c "exec 3<>/dev/tcp/$vip/1" 2>&1 || true)" "Connection refused" \
  "a connection from the referee to $vip behind n1's bridge"
ok "the network spans the referee and n1: $vip on n1's bridge answers from the referee"
bed_log "all ok"
