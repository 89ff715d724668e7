# SPDX-License-Identifier: GPL-3.0-or-later
# The bed's private libvirtd starts and stops a real LXC domain, without
# touching the host's libvirt folders.
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
bed_libvirtd

lxc_smoke "$BED_LIBVIRT_URI"
out=$(virsh -q -c "$BED_LIBVIRT_URI" list --all --name)
bed_assert_eq "" "$out" "domains left in the bed libvirtd"
bed_assert_eq "$before" "$(host_state)" "host libvirt folders"
# Inside its namespace, libvirtd sees its own folders.
inside=$(bed_libvirtd_exec stat -c %i /var/run/libvirt)
bed_assert_eq "$(stat -c %i "$BED_LIBVIRT_DIR/run")" "$inside" "private /var/run/libvirt"
# A mount made on the host under $BED_DIR afterwards (say, a domain's overlay
# root) reaches libvirtd's namespace.
mkdir "$BED_DIR/late"
mount -t tmpfs late "$BED_DIR/late"
touch "$BED_DIR/late/seen"
bed_libvirtd_exec test -e "$BED_DIR/late/seen" || bed_fail "host mount not propagated to libvirtd"
umount "$BED_DIR/late"
bed_log "ok: libvirt"
