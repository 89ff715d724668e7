# SPDX-License-Identifier: GPL-3.0-or-later
# cloe's bad-input table: each case is one command that must be refused with
# one line on stderr, its documented exit code (docs/cloe.md), and nothing
# changed: the referee's database and the cluster's known_hosts
# byte-identical, the same libvirt domains, the same mounts, no file added
# under the storage folder. The cases cover unknown clusters, nodes,
# templates, vservers, groups and jobs; names that are not RFC 1123 labels;
# sizes and lists that do not parse; addresses outside the network or the
# pool, or taken; quotas beyond a node's capacity; a node that does not
# answer; a destroy of a running vserver without --force; and more.
source "$OE_SOURCE_DIR/tests/cloe/lib.sh"
cloe_template
cloe_vservers
bed_bridge vs
br=$BED_BRIDGE_VS hostip=$BED_BRIDGE_VS_IP
net=${hostip%.*}.0/24
R=$BED_DIR/root
mkdir -p "$R/var/lib/oe/cloe/templates"
ln -s "$CLOE_CACHE/var/lib/oe/cloe/templates/base" "$R/var/lib/oe/cloe/templates/base"
export OE_CLOE_LIBVIRT_URI=$BED_LIBVIRT_URI OE_CLOE_NETWORK_BRIDGE=$br OE_CLOE_LOCKS_WAIT=0
export OE_CLOE_SSH_CONNECT_TIMEOUT=3
C() { cloe --root "$R" "$@"; }
json() { /usr/bin/python3 -c 'import json, sys; d = json.load(sys.stdin); print(eval(sys.argv[1]))' "$1"; }
id=${BED_ID,,}
a=a-$id
cloe_vserver_name a
_down() { local v; for v in "$a" v2; do C vserver destroy "$v" --force >/dev/null 2>&1 || true; done; }
bed_on_exit _down

C cluster init t --network "$net" --gateway "$hostip" >/dev/null
C @t node add n0 --local --address "${hostip%.*}.2" --storage "ssd=$CLOE_STORAGE" --memory 2G --cpus 2 >/dev/null
C @t vserver create "$a" --memory 256M --disk 128M --group g1 >/dev/null
aip=$(C @t vserver show "$a" --json | json 'd["vserver"]["ip"]')
pool_first=$(C cluster show t --json | json 'd["cluster"]["pool"]["first"]')
ok "cluster t, node n0, vserver $a ($aip) in group g1"

# An address on the bed's network where nothing listens (a node that does not answer).
dead=${hostip%.*}.9
key="ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl"

db=$R/var/lib/oe/referee.db
state() {
  sha256sum "$db"
  find "$R/var/lib/oe/cloe/known_hosts" -type f -exec sha256sum {} + 2>/dev/null | sort
  virsh -c "$BED_LIBVIRT_URI" list --all --name | sort
  findmnt -rn -o TARGET | grep -F "$BED_DIR" | sort
  find "$CLOE_STORAGE" -maxdepth 3 | sort
}
before=$(state)
n=0
# case CODE ARGS...: cloe ARGS exits CODE, one line on stderr, the state unchanged.
case_() {
  local code=$1 rc=0 err; shift
  err=$(C "$@" 2>&1 >/dev/null) || rc=$?
  ((++n))
  [[ $rc == "$code" ]] || bed_fail "case $n: cloe $*: exit $rc, expected $code ($err)"
  [[ $(grep -c . <<<"$err") == 1 ]] || bed_fail "case $n: cloe $*: not one line: $err"
  [[ $err == cloe:* ]] || bed_fail "case $n: cloe $*: the line does not start with cloe: ($err)"
  [[ $(state) == "$before" ]] || bed_fail "case $n: cloe $*: the state changed"
}

# clusters
case_ 2 cluster init 'Bad_Name'
case_ 2 cluster init x --network 10.0.0.0/33
case_ 2 cluster init x --network not-a-cidr
case_ 4 cluster init t --network "$net"
case_ 2 cluster init x --network 10.9.0.0/24 --gateway 10.10.0.1
case_ 2 cluster init x --network 10.9.0.0/24 --pool 10.9.0.200-10.9.0.100
case_ 2 cluster init x --network 10.9.0.0/24 --pool 10.9.1.1-10.9.1.9
case_ 3 cluster show nosuch
case_ 3 @nosuch vserver list
case_ 2 @'a;b' vserver list
# nodes
case_ 2 @t node add 'n;1' --address "${hostip%.*}.3" --local
case_ 2 @t node add n2 --address 999.1.1.1 --host-key "$key"
case_ 2 @t node add n2 --address 10.99.99.99 --host-key "$key"
case_ 2 @t node add n2 --address "$hostip" --host-key "$key"
case_ 2 @t node add n2 --address "$pool_first" --host-key "$key"
case_ 4 @t node add n0 --local --address "${hostip%.*}.4" --storage "ssd=$CLOE_STORAGE"
case_ 4 @t node add n2 --local --address "${hostip%.*}.4" --storage "ssd=$CLOE_STORAGE"
case_ 2 @t node add n2 --address "$dead" --host-key "$key" --memory 12Q
case_ 2 @t node add n2 --address "$dead" --host-key "$key" --storage ssd
case_ 2 @t node add n2 --address "$dead" --host-key "not a key"
case_ 5 @t node add n2 --address "$dead" --host-key "$key"
case_ 3 @t node show nosuch
case_ 3 @t node drain nosuch
case_ 4 @t node remove n0
case_ 3 @t node install-host nosuch
# templates
case_ 2 template build 'Bad!'
case_ 2 template build x --suite 'b0okworm'
case_ 2 template build x --packages 'a;b'
case_ 2 template build x --mirror 'ftp://example.invalid/debian'
case_ 2 template build x --software tryton/7.0
case_ 2 template build x --repository "$BED_DIR/nowhere" --software 'tryton/7.0;x'
case_ 2 template build x --repository "$BED_DIR/nowhere"
case_ 3 template show nosuch
case_ 3 template remove nosuch
# vservers
case_ 2 @t vserver create 'Bad_Name'
case_ 3 @t vserver create v2 --template nosuch
case_ 3 @t vserver create v2 --node nosuch
case_ 2 @t vserver create v2 --memory 12Q
case_ 2 @t vserver create v2 --disk -1
case_ 4 @t vserver create v2 --memory 1T
case_ 2 @t vserver create v2 --cpu-max -5
case_ 2 @t vserver create v2 --cpu-shares 0
case_ 2 @t vserver create v2 --ip 8.8.8.8
case_ 4 @t vserver create v2 --ip "$aip"
case_ 4 @t vserver create "$a"
case_ 3 @t vserver create v2 --node n0 --storage sata
case_ 4 @t vserver create v2 --storage sata
case_ 2 @t vserver create v2 --group 'bad group'
case_ 4 @t vserver destroy "$a"
case_ 3 @t vserver show nosuch
case_ 3 @t vserver start nosuch
case_ 2 @t vserver stop "$a" --timeout 0
case_ 2 @t vserver set "$a" --disk 64M
case_ 4 @t vserver set "$a" --memory 1T
case_ 2 @t vserver set "$a" --memory lots
# group commands, services, locate
case_ 3 @t command nosuch -- true
case_ 2 @t command "$a"
case_ 2 @t command "$a" --parallel 0 -- true
case_ 2 @t command "$a" --user 'bad user' -- true
case_ 3 @t command "$a" --resume 999999 -- true
case_ 2 @t command "$a" --resume not-a-job -- true
case_ 3 @t service list --group nosuch
case_ 3 @t xoe nosuch -- --version
case_ 6 @t xoe "$a" -- --version
case_ 2 @t xoe 'a;b' -- --version
# On a root that has no inventory yet: refused, and no database made.
fresh=$BED_DIR/fresh
mkdir -p "$fresh"
rc=0; err=$(cloe --root "$fresh" @t vserver create v2 2>&1 >/dev/null) || rc=$?
((++n))
bed_assert_eq 3 "$rc" "vserver create on a root without a cluster ($err)"
[[ ! -e $fresh/var/lib/oe/referee.db ]] || bed_fail "vserver create on an unknown cluster made a database"
ok "$n bad inputs: one line each, the documented exit code, nothing changed"
((n >= 40)) || bed_fail "only $n cases"
