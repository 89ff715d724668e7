# SPDX-License-Identifier: GPL-3.0-or-later
# Issue 13, the variants of holes 3 and 6: special files in a data folder.
# The service's user plants a FIFO, a socket, a symbolic link out and a file
# whose name holds a newline; a device node is there too (made by root here:
# a customer cannot mknod, an old restore could). xoe backup neither hangs
# on the FIFO nor opens the device: it leaves them, the socket and the link
# out of the archive and keeps the newline's file; the archive restores
# (exit 0) with that file the service's and no special file. A tree handed
# to the service's user with a device node in it is refused: xoe db create
# exits 6 naming it, and the device is still root's. On the old code, tar
# stored the FIFO and the device and chown -R gave the device to the user.
source "${OE_SOURCE_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}/tests/security/lib.sh"
xoe_setup
sec_outside
X software fetch tryton/6.0 >/dev/null
n=p$XID
xoe_create "$n" 6.0 sqlite production >/dev/null
data=$(sec_data "$n") u=$(stat -c %U "$(sec_data "$n")")
bed_as "$u" mkfifo "$data/fifo"
bed_as "$u" $py -c 'import socket, sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])' "$data/sock"
bed_as "$u" ln -s "$OUTSIDE" "$data/out"
bed_as "$u" mkdir -p "$data/$n"
bed_as "$u" $py -c 'import sys; open(sys.argv[1] + "/a\nb", "w").write("newline\n")' "$data/$n"
mknod "$data/null" c 1 3
ok "planted: FIFO, socket, link out, a newline in a name, a device node"

rc=0
out=$(timeout 120 xoe --root "$XROOT" backup "$n" --json 2>"$BED_DIR/err") || rc=$?
bed_assert_eq 0 "$rc" "exit code of the backup ($(cat "$BED_DIR/err"))"
a=$(xoe_json 'd["backup"]["archive"]' <<<"$out")
members=$(zstd -dc "$a" | $py -c 'import sys, tarfile; print("|".join(sorted(m.name for m in tarfile.open(fileobj=sys.stdin.buffer, mode="r|") if m.name.startswith("data"))))')
for m in data/fifo data/sock data/null data/out; do
  [[ "|$members|" != *"|$m|"* ]] || bed_fail "$m is in the archive: $members"
done
bed_assert_contains "$members" "data/$n/a"$'\n'"b" "the file with a newline in its name"
sec_assert_unchanged "backup"
ok "backup: exit 0, no special file and no link out in the archive, the newline's file kept"

rc=0
timeout 300 xoe --root "$XROOT" restore "$n" "$a" >/dev/null 2>"$BED_DIR/err" || rc=$?
bed_assert_eq 0 "$rc" "exit code of the restore ($(cat "$BED_DIR/err"))"
bed_assert_eq "newline" "$(cat "$data/$n/a"$'\n'"b")" "the newline's file restored"
bed_assert_eq "$u" "$(stat -c %U "$data/$n/a"$'\n'"b")" "its owner"
[[ -z $(find "$data" ! -type f ! -type d) ]] || bed_fail "special files after the restore: $(find "$data" ! -type f ! -type d)"
sec_assert_unchanged "restore"
ok "restore: exit 0, the newline's file the service's, no special file"

mknod "$data/null" c 1 3
X db drop "$n" >/dev/null
xoe_expect 6 "device node $data/null" db create "$n"
bed_assert_eq "root" "$(stat -c %U "$data/null")" "the device's owner after db create"
sec_assert_unchanged "db create"
ok "db create with a device node in the data folder: exit 6 naming it, the device root's"
