# SPDX-License-Identifier: GPL-3.0-or-later
# cloe's clusters and nodes against a real node (a network namespace with its
# own sshd): cluster init; node add over real SSH, refused until the host key's
# fingerprint is accepted (the one ssh-keyscan saw, shown in the refusal), then
# capacity probed over SSH; node list/show/drain; a changed host key refused
# and named; node remove, re-add with --host-key, remove. Then the bad input:
# one line on stderr, the documented exit code, the inventory (the database
# file and the cluster's known_hosts) byte-identical. Before this, cloe had
# `doctor` alone: every command here exited 2.
source "${OE_SOURCE_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}/tests/bed/bed.sh"
bed_init
bed_bridge lan
bed_node n1

R=$BED_DIR/root
mkdir -p "$R"
export OE_CLOE_SSH_IDENTITY=$BED_SSH_KEY OE_CLOE_LOCKS_WAIT=0
C() { cloe --root "$R" "$@"; }
json() { /usr/bin/python3 -c 'import json, sys; d = json.load(sys.stdin); print(eval(sys.argv[1]))' "$1"; }
ok() { bed_log "ok: $*"; }

ip=$BED_NODE_N1_IP
net=${BED_BRIDGE_LAN_IP%.*}.0/24
gw=$BED_BRIDGE_LAN_IP
db=$R/var/lib/oe/referee.db
kh=$R/var/lib/oe/cloe/known_hosts/lab
storage=$BED_DIR/storage
mkdir -p "$storage/ssd" "$storage/sata"

out=$(C cluster init lab --network "$net" --gateway "$gw")
bed_assert_contains "$out" "cluster lab initialised"
bed_assert_eq "$net" "$(C cluster show lab --json | json 'd["cluster"]["network"]')" "network of lab"
bed_assert_eq "lab" "$(C cluster list --json | json '",".join(c["name"] for c in d["clusters"])')" "clusters"
# The default cluster comes from the configuration.
bed_assert_eq "$gw" "$(C --set cluster.name=lab cluster show --json | json 'd["cluster"]["gateway"]')" "default cluster"
ok "cluster init, show, list"

# node add without a key: refused, showing the fingerprint ssh-keyscan saw.
want=$(ssh-keygen -l -E sha256 -f "$BED_DIR/ssh/host_ed25519.pub" | cut -d' ' -f2)
sum_before=$(sha256sum "$db")
rc=0
C @lab node add n1 --address "$ip" --storage "ssd=$storage/ssd,sata=$storage/sata" >"$BED_DIR/out" 2>"$BED_DIR/err" || rc=$?
bed_assert_eq 4 "$rc" "exit of node add without an accepted key"
bed_assert_contains "$(cat "$BED_DIR/err")" "--accept-host-key $want" "refusal"
bed_assert_eq 1 "$(wc -l <"$BED_DIR/err")" "lines of the refusal"
bed_assert_eq "$sum_before" "$(sha256sum "$db")" "inventory after the refusal"
[[ ! -s $kh ]] || ! grep -q "$ip" "$kh" || bed_fail "known_hosts has the refused key"
# Another fingerprint than the one seen: refused too.
rc=0
C @lab node add n1 --address "$ip" --accept-host-key SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA 2>"$BED_DIR/err" || rc=$?
bed_assert_eq 4 "$rc" "exit of node add with a wrong fingerprint"
bed_assert_contains "$(cat "$BED_DIR/err")" "it shows ssh-ed25519 $want"
bed_assert_eq "$sum_before" "$(sha256sum "$db")" "inventory after a wrong fingerprint"
ok "an unaccepted host key is refused, with its fingerprint"

: >"$BED_NODE_N1_DIR/sshd.log"
t0=$SECONDS
C @lab node add n1 --address "$ip" --storage "ssd=$storage/ssd,sata=$storage/sata" --accept-host-key "$want" --json \
  >"$BED_DIR/add.json"
bed_log "node add took $((SECONDS - t0)) s"
bed_assert_eq "['cpus', 'memory', 'disk:ssd', 'disk:sata']" "$(json 'd["probed"]' <"$BED_DIR/add.json")" "probed"
bed_assert_eq "$(bed_node_exec n1 nproc)" "$(json 'd["node"]["cpus"]' <"$BED_DIR/add.json")" "cpus"
bed_assert_eq "$(($(awk '/^MemTotal:/ {print $2}' /proc/meminfo) * 1024))" "$(json 'd["node"]["memory"]' <"$BED_DIR/add.json")" "memory"
bed_assert_eq "$(df -P -B1 "$storage/ssd" | awk 'NR == 2 {print $2}')" \
  "$(json '[s["disk"] for s in d["node"]["storage"] if s["class"] == "ssd"][0]' <"$BED_DIR/add.json")" "disk of ssd"
bed_assert_eq "$want" "$(json 'd["node"]["fingerprint"]' <"$BED_DIR/add.json")" "pinned fingerprint"
# It went over SSH with the referee's key, and the key is pinned in cloe's own known_hosts.
grep -q "Accepted publickey for root from" "$BED_NODE_N1_DIR/sshd.log" || bed_fail "no SSH login on n1: $(cat "$BED_NODE_N1_DIR/sshd.log")"
grep -qx "$ip $(cut -d' ' -f1,2 "$BED_DIR/ssh/host_ed25519.pub")" "$kh" || bed_fail "key not pinned in $kh: $(cat "$kh")"
ok "node add over SSH with the accepted key; capacity probed over SSH"

out=$(C @lab node list)
bed_assert_contains "$out" "n1"
bed_assert_contains "$out" "$ip"
bed_assert_eq "n1" "$(C --cluster lab node list --json | json '",".join(n["name"] for n in d["nodes"])')" "nodes"
logins=$(grep -c "Accepted publickey" "$BED_NODE_N1_DIR/sshd.log")
out=$(C @lab node show n1 --check)
bed_assert_contains "$out" "seen now: reachable"
C @lab node show n1 --check --json >/dev/null
# The multiplexed connection served both checks: at most one new login.
(( $(grep -c "Accepted publickey" "$BED_NODE_N1_DIR/sshd.log") <= logins + 1 )) || bed_fail "no multiplexing: $(grep -c "Accepted publickey" "$BED_NODE_N1_DIR/sshd.log") logins"
[[ -n $(find "$R/run/oe/cloe/ssh" -type s) ]] || bed_fail "no control socket under the root"
C @lab node drain n1 >/dev/null
bed_assert_eq True "$(C @lab node show n1 --json | json 'd["node"]["drained"]')" "drained"
C @lab node drain n1 --undo >/dev/null
bed_assert_eq False "$(C @lab node show n1 --json | json 'd["node"]["drained"]')" "undrained"
ok "node list, show --check (multiplexed), drain, drain --undo"

# The node's sshd comes back with another host key: refused and named.
ssh-keygen -q -t ed25519 -N '' -C other -f "$BED_DIR/new_host_key"
sed "s|^HostKey .*|HostKey $BED_DIR/new_host_key|" "$BED_DIR/ssh/sshd_config" >"$BED_DIR/sshd_new_config"
for p in $(ip netns pids "$BED_NODE_N1_NS"); do
  [[ $(cat "/proc/$p/comm" 2>/dev/null) == sshd ]] && kill "$p"
done
bed_wait 10 "old sshd gone" bash -c "! (exec 3<>/dev/tcp/$ip/22)"
bed_node_exec n1 /usr/sbin/sshd -f "$BED_DIR/sshd_new_config" -o Port=22 -o "ListenAddress=$ip" \
  -o "PidFile=$BED_NODE_N1_DIR/sshd.pid" -E "$BED_NODE_N1_DIR/sshd2.log"
bed_wait_port "$ip" 22 10
sum_before=$(sha256sum "$db" "$kh")
rc=0
C @lab node show n1 --check >"$BED_DIR/out" 2>"$BED_DIR/err" || rc=$?
bed_assert_eq 5 "$rc" "exit with a changed host key"
bed_assert_contains "$(cat "$BED_DIR/err")" "node n1 ($ip): its host key is not the pinned one ($want): refused"
bed_assert_eq 1 "$(wc -l <"$BED_DIR/err")" "lines of the refusal"
bed_assert_eq "" "$(cat "$BED_DIR/out")" "stdout of the refusal"
bed_assert_eq "$sum_before" "$(sha256sum "$db" "$kh")" "inventory after a changed key"
ok "a changed host key is refused and named"

# Bad input: one line, its exit code, nothing changed.
printf '[ssh]\nno_such_key = 1\n' >"$BED_DIR/broken.toml"
sum_before=$(sha256sum "$db" "$kh")
cases=(
  "3|unknown cluster|@nope node list"
  "3|unknown cluster (show)|cluster show nope"
  "3|unknown node|@lab node show nosuch"
  "3|drain of an unknown node|@lab node drain nosuch"
  "3|remove of an unknown node|@lab node remove nosuch"
  "3|node add to an unknown cluster|@nope node add n9 --address $ip"
  "2|cluster name not a label|cluster init Bad_Name"
  "2|cluster name too long|cluster init $(printf 'a%.0s' {1..64})"
  "2|--cluster not a label|--cluster LAB node list"
  "2|node name not a label|@lab node add N_1 --address ${ip%.*}.40"
  "2|node name with a dot|@lab node add n.1 --address ${ip%.*}.40"
  "2|address outside the network|@lab node add n9 --address 192.0.2.1"
  "2|address not an address|@lab node add n9 --address 10.0.0.300"
  "2|address in the pool|@lab node add n9 --address ${ip%.*}.200"
  "2|address is the gateway|@lab node add n9 --address $gw"
  "4|address of another node|@lab node add n9 --address $ip"
  "4|name of another node|@lab node add n1 --address ${ip%.*}.40"
  "4|cluster exists|cluster init lab"
  "2|memory that does not parse|@lab node add n9 --address ${ip%.*}.40 --memory 12X"
  "2|disk that does not parse|@lab node add n9 --address ${ip%.*}.40 --disk ssd=big"
  "2|disk of an unknown class|@lab node add n9 --address ${ip%.*}.40 --disk sata=1G"
  "2|storage path relative|@lab node add n9 --address ${ip%.*}.40 --storage ssd=srv"
  "2|storage without a path|@lab node add n9 --address ${ip%.*}.40 --storage ssd"
  "2|bad ssh port|@lab node add n9 --address ${ip%.*}.40 --ssh-port 0"
  "2|bad fingerprint|@lab node add n9 --address ${ip%.*}.40 --accept-host-key 12:34"
  "2|bad host key|@lab node add n9 --address ${ip%.*}.40 --host-key nonsense"
  "2|network not a CIDR|cluster init lab2 --network 10.1.2.3"
  "2|network with host bits|cluster init lab2 --network 10.1.2.3/24"
  "2|gateway outside|cluster init lab2 --network 10.1.2.0/24 --gateway 10.9.9.9"
  "2|unknown command|node frobnicate"
  "2|unknown option|@lab node list --frobnicate"
  "5|a node that does not answer|--set ssh.connect_timeout=2 @lab node add n9 --address ${ip%.*}.40"
)
for c in "${cases[@]}"; do
  IFS='|' read -r code what args <<<"$c"
  read -ra argv <<<"$args"
  rc=0
  C "${argv[@]}" >"$BED_DIR/out" 2>"$BED_DIR/err" || rc=$?
  bed_assert_eq "$code" "$rc" "exit of '$what' ($(cat "$BED_DIR/err"))"
  bed_assert_eq 1 "$(wc -l <"$BED_DIR/err")" "stderr lines of '$what': $(cat "$BED_DIR/err")"
  bed_assert_contains "$(cat "$BED_DIR/err")" "cloe: " "'$what'"
  bed_assert_eq "" "$(cat "$BED_DIR/out")" "stdout of '$what'"
  bed_assert_eq "$sum_before" "$(sha256sum "$db" "$kh")" "inventory after '$what'"
done
# A broken configuration file stops every command before it acts.
mkdir -p "$R/etc/oe"
cp "$BED_DIR/broken.toml" "$R/etc/oe/cloe.toml"
for args in "@lab node list" "@lab node remove n1" "cluster init lab3"; do
  read -ra argv <<<"$args"
  rc=0
  C "${argv[@]}" >"$BED_DIR/out" 2>"$BED_DIR/err" || rc=$?
  bed_assert_eq 2 "$rc" "exit of '$args' with a broken config"
  bed_assert_contains "$(cat "$BED_DIR/err")" "no_such_key"
  bed_assert_eq 1 "$(wc -l <"$BED_DIR/err")" "stderr lines with a broken config"
  bed_assert_eq "$sum_before" "$(sha256sum "$db" "$kh")" "inventory after '$args' with a broken config"
done
rm "$R/etc/oe/cloe.toml"
ok "${#cases[@]} bad inputs and a broken config: one line, their exit code, inventory unchanged"

# Remove, then add again with the new key given: pinned as given, no scan needed.
C @lab node remove n1 >/dev/null
bed_assert_eq 0 "$(C @lab node list --json | json 'len(d["nodes"])')" "nodes after remove"
! grep -q "$ip" "$kh" || bed_fail "the removed node's key is still pinned"
out=$(C @lab node add n1 --address "$ip" --storage "ssd=$storage/ssd" --host-key "$(cat "$BED_DIR/new_host_key.pub")" \
  --cpus 1 --memory 1G --disk 10G)
bed_assert_contains "$out" "node n1 added to cluster lab: $ip, 1 CPUs, 1G memory"
C @lab node show n1 --check >/dev/null
# A vserver on it: remove is refused (the inventory's own constraint, too).
/usr/bin/python3 - "$db" <<'PY'
import sqlite3, sys
c = sqlite3.connect(sys.argv[1])
c.execute("INSERT INTO templates VALUES ('t', 'bookworm', '', 'x', 1, 'now')")
c.execute("INSERT INTO vservers (name, cluster, node, ip, mac, template, storage, memory, disk, id_base, state, created)"
          " SELECT 'v1', 'lab', 'n1', pool_first, '52:54:00:00:00:01', 't', 'ssd', 1, 1, 65536, 'stopped', 'now'"
          " FROM clusters WHERE name = 'lab'")
c.commit()
PY
sum_before=$(sha256sum "$db" "$kh")
rc=0
C @lab node remove n1 2>"$BED_DIR/err" || rc=$?
bed_assert_eq 4 "$rc" "exit of remove with a vserver"
bed_assert_contains "$(cat "$BED_DIR/err")" "still holds 1 vserver(s)"
bed_assert_eq "$sum_before" "$(sha256sum "$db" "$kh")" "inventory after a refused remove"
/usr/bin/python3 -c 'import sqlite3, sys; c = sqlite3.connect(sys.argv[1]); c.execute("DELETE FROM vservers"); c.commit()' "$db"
C @lab node remove n1 >/dev/null
bed_assert_eq 0 "$(C @lab node list --json | json 'len(d["nodes"])')" "nodes after the last remove"
ok "node remove (refused while a vserver is on it), re-add with --host-key, remove"
