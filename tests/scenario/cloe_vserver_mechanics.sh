# SPDX-License-Identifier: GPL-3.0-or-later
# libcloe's vserver mechanics on a real libvirt LXC (the bed's private
# libvirtd), from the cached template of scenario.cloe_template: an ext4
# image as its disk, the template idmapped as the read-only lower layer, an
# overlay as its root, a user namespace (root inside is host id BASE).
# Inside, through `cloe __enter` (libvirt-lxc's sequence: its cgroups, its
# namespaces, its root): uid 0 with the map 0 BASE 65536, runit as PID 1;
# root inside cannot write a host sysctl or sysfs, mount cgroup v1, make a
# device node, nor write the template; it has its address on the node
# bridge and reaches the host there (a write
# lands in its own layer); writing past the disk fails with "No space left
# on device"; a process over its memory is killed, the rest runs on; a
# command's exit status comes back. A clean stop (SIGINT to
# init), then down: no domain, no mount, no folder left.
source "$OE_SOURCE_DIR/tests/cloe/lib.sh"
cloe_template
cloe_vservers
tpl=$CLOE_TEMPLATE storage=$CLOE_STORAGE
cloe_vserver_name vs
name=vs-${BED_ID,,} base=$((200000 + 65536 * (RANDOM % 100)))
sum_before=$(cd "$tpl" && find usr/bin -maxdepth 1 -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum | sha256sum)

bed_bridge vs
br=$BED_BRIDGE_VS hostip=$BED_BRIDGE_VS_IP
vsip=${hostip%.*}.5
vserver_probe up "$BED_LIBVIRT_URI" "$storage" "$tpl" "$name" "$base" 64 "net=$br,$vsip,24,$hostip" ||
  bed_fail "vserver_probe up failed"
E() { cloe __enter "$BED_LIBVIRT_URI" "$name" "$@"; }  # this one vserver
bed_wait 20 "a command inside $name" E true
bed_assert_eq 0 "$(E id -u)" "uid inside"
bed_assert_eq "0 $base 65536" "$(E cat /proc/self/uid_map | tr -s ' ' | sed 's/^ //')" "uid map inside"
bed_assert_eq runit "$(E cat /proc/1/comm)" "PID 1 inside"
findmnt -n -o OPTIONS "$storage/vservers/$name/lower" | grep -q idmapped || bed_fail "the template is not idmapped"
# A command entered runs in the vserver's cgroups (its limits hold for it), as the host sees it.
E sleep 4.321 &
bed_wait 10 "the entered sleep" pgrep -f -x "sleep 4.321"
spid=$(pgrep -f -x -n "sleep 4.321")
grep -E '^[0-9]+:([^:]*,)?memory(,[^:]*)?:' "/proc/$spid/cgroup" | grep -qF "$name" || bed_fail "the entered command is not in the vserver's memory cgroup: $(cat "/proc/$spid/cgroup")"
grep -E '^[0-9]+:([^:]*,)?cpu(,[^:]*)?:' "/proc/$spid/cgroup" | grep -qF "$name" || bed_fail "the entered command is not in the vserver's cpu cgroup: $(cat "/proc/$spid/cgroup")"
bed_assert_eq "$base" "$(ps -o uid= -p "$spid" | tr -d ' ')" "the host uid of the entered command"
wait
ok "inside: uid 0 mapped to $base, runit as PID 1, the template idmapped, an entered command in its cgroups"

# Its address on the node bridge, and the host's HTTP server reached from it.
bed_assert_contains "$(E ip -4 -o addr show)" "inet $vsip/24" "the vserver's address"
port=$(bed_free_port)
/usr/bin/python3 -m http.server --bind "$hostip" "$port" --directory "$BED_DIR" >/dev/null 2>&1 &
web=$!
bed_wait_port "$hostip" "$port"
bed_assert_eq "HTTP/1.0 200 OK" "$(E bash -c 'exec 3<>"/dev/tcp/$0/$1" && printf "GET / HTTP/1.0\r\n\r\n" >&3 && head -n 1 <&3 | tr -d "\r"' "$hostip" "$port")" "the host's web server from inside"
kill "$web"
ok "its address $vsip on the node bridge; the host reached from inside"

rc=0
E sh -c 'exit 7' || rc=$?
bed_assert_eq 7 "$rc" "the exit status of a command inside"
rc=0
E sh -c 'echo 3 > /proc/sys/vm/drop_caches' 2>/dev/null || rc=$?
((rc != 0)) || bed_fail "root inside wrote a host sysctl"
rc=0
E sh -c 'echo x > /sys/kernel/uevent_helper' 2>/dev/null || rc=$?
((rc != 0)) || bed_fail "root inside wrote sysfs"
# Root of the host could (CLOE.md, facts): mount cgroup v1 (a release agent's way out), make a block device.
rc=0
E sh -c 'mkdir -p /tmp/cg && mount -t cgroup -o none,name=oe cgroup /tmp/cg' 2>/dev/null || rc=$?
((rc != 0)) || bed_fail "root inside mounted a cgroup v1 hierarchy"
rc=0
E mknod /tmp/disk b 8 0 2>/dev/null || rc=$?
((rc != 0)) || bed_fail "root inside made a block device"
E sh -c 'echo planted > /usr/bin/planted && echo changed >> /usr/bin/ls' || bed_fail "root inside cannot write its own root"
[[ ! -e $tpl/usr/bin/planted ]] || bed_fail "a write inside reached the template"
bed_assert_eq "$sum_before" "$(cd "$tpl" && find usr/bin -maxdepth 1 -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum | sha256sum)" "the template's files"
[[ -e $storage/vservers/$name/layer/upper/usr/bin/planted ]] || bed_fail "the write is not in the vserver's layer"
ok "root inside: no host sysctl, no sysfs, no cgroup v1 mount, no device node, the template unchanged (writes go to its layer)"

err=$(E dd if=/dev/zero of=/var/fill bs=1M count=200 2>&1) && bed_fail "writing 200 MB on a 64 MB disk worked"
bed_assert_contains "$err" "No space left on device" "the error past the disk quota"
E rm -f /var/fill
ok "the disk quota: writing past it fails with No space left on device"

# Its memory (256 MiB): a 300 MiB buffer is killed, the vserver runs on.
rc=0
E dd if=/dev/zero of=/dev/null bs=300M count=1 2>/dev/null || rc=$?
bed_assert_eq 137 "$rc" "exit status of a 300 MiB allocation in 256 MiB"
bed_assert_eq 0 "$(E id -u)" "a command after the kill"
ok "the memory limit: a process over it is killed (137), the vserver runs on"

t0=$SECONDS
vserver_probe stop "$BED_LIBVIRT_URI" "$name" 20 || bed_fail "the vserver did not stop cleanly in 20 s"
ok "clean stop (SIGINT to init) in $((SECONDS - t0)) s"
vserver_probe down "$BED_LIBVIRT_URI" "$storage" "$name" || bed_fail "vserver_probe down failed"
[[ -z $(virsh -c "$BED_LIBVIRT_URI" list --all --name | grep -Fx "$name" || true) ]] || bed_fail "the domain is left"
[[ -z $(findmnt -rn -o TARGET | grep -F "$storage/" || true) ]] || bed_fail "mounts left: $(findmnt -rn -o TARGET | grep -F "$storage/")"
[[ ! -e $storage/vservers/$name ]] || bed_fail "the vserver's folder is left"
ok "down: no domain, no mount, no folder"
bed_log "all ok"
