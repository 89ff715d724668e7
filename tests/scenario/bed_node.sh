# SPDX-License-Identifier: GPL-3.0-or-later
# Two nodes (network namespaces on one bridge), each with its own hostname,
# sshd and libvirtd: ssh reaches each, an LXC domain starts on each over
# lxc+ssh, the nodes reach each other, and the host's libvirt stays untouched.
source "${OE_SOURCE_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}/tests/bed/bed.sh"
bed_init
command -v lxc_smoke >/dev/null || bed_fail "lxc_smoke not built (is \$OE_BUILD_DIR/bin on PATH?)"
# The host's libvirt folders. A fresh host may lack some until a libvirt
# client first runs (find's error then stopped the script without a word, and
# another scenario's client made them meanwhile): made first, then listed.
host_dirs=(/var/run/libvirt /var/lib/libvirt /var/log/libvirt /etc/libvirt /var/cache/libvirt)
mkdir -p "${host_dirs[@]}"
host_state() { find "${host_dirs[@]}" -mindepth 1 -printf '%p %s %T@\n' | sort; }
before=$(host_state)

bed_bridge lan
bed_node n1
bed_node n2

for n in n1 n2; do
  ipvar=BED_NODE_${n^^}_IP urivar=BED_NODE_${n^^}_URI
  out=$(ssh -F "$BED_SSH_CONFIG" "root@${!ipvar}" hostname)
  bed_assert_eq "$n" "$out" "hostname of $n over ssh"
  lxc_smoke "${!urivar}"
done

# Each node's libvirtd is its own: a domain defined on n1 is not seen on n2.
xml=$BED_DIR/keep.xml
cat >"$xml" <<XML
<domain type='lxc'><name>oe-bed-only-n1</name><memory unit='MiB'>32</memory>
<os><type>exe</type><init>/bin/true</init></os></domain>
XML
virsh -q -c "$BED_NODE_N1_URI" define "$xml" >/dev/null
bed_assert_eq "oe-bed-only-n1" "$(virsh -q -c "$BED_NODE_N1_URI" list --all --name)" "domains on n1"
bed_assert_eq "" "$(virsh -q -c "$BED_NODE_N2_URI" list --all --name)" "domains on n2"

# Node to node over the bridge (TCP to the other node's sshd), and node to host.
bed_node_ssh n1 "timeout 5 bash -c 'exec 3<>/dev/tcp/$BED_NODE_N2_IP/22'"
bed_node_ssh n2 "timeout 5 bash -c 'exec 3<>/dev/tcp/$BED_NODE_N1_IP/22'"
# The host, listening on its bridge address, sees n1 connect from n1's address.
hport=$(bed_free_port)
timeout 15 /usr/bin/python3 -c '
import socket, sys
s = socket.socket(); s.bind((sys.argv[1], int(sys.argv[2]))); s.listen(1)
c, peer = s.accept(); c.sendall(peer[0].encode()); c.close()' "$BED_BRIDGE_LAN_IP" "$hport" &
listener=$!
listening() { [[ -n $(ss -Htln "sport = :$1") ]]; }
bed_wait 5 "listener on $BED_BRIDGE_LAN_IP:$hport" listening "$hport"
out=$(bed_node_exec n1 timeout 5 bash -c "exec 3<>/dev/tcp/$BED_BRIDGE_LAN_IP/$hport && cat <&3")
bed_assert_eq "$BED_NODE_N1_IP" "$out" "address the host sees for n1"
wait "$listener"
bed_assert_eq n2 "$(bed_node_exec n2 hostname)" "bed_node_exec"

# A mount made on the host under $BED_DIR afterwards reaches the nodes.
mkdir "$BED_DIR/late"
mount -t tmpfs late "$BED_DIR/late"
touch "$BED_DIR/late/seen"
bed_node_ssh n2 test -e "$BED_DIR/late/seen" || bed_fail "host mount not propagated to node n2"
umount "$BED_DIR/late"

bed_assert_eq "$before" "$(host_state)" "host libvirt folders"
bed_log "ok: nodes (the domain left on n1 is removed by the cleanup)"
