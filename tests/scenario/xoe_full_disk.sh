# SPDX-License-Identifier: GPL-3.0-or-later
# A full disk, simulated with a small filesystem (a 1 MiB tmpfs as the backup
# folder): the backup of a running Tryton 7.0 service fails with a one-line
# error and its exit code (1: xoe's own write), leaves no partial archive and no unfinished job,
# and the service keeps running untouched; with room again, the next backup
# works. The same for a restore whose work folder (where the archive is
# unpacked) is on a full filesystem: exit 1 (xoe unpacks the archive itself,
# an I/O error), one line, the service as it was.
source "${OE_SOURCE_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}/tests/bed/bed.sh"
bed_init
source "$OE_SOURCE_DIR/tests/xoe/lib.sh"
xoe_setup

small=$BED_DIR/small
mkdir -p "$small"
mount -t tmpfs -o size=1m oe-bed-small "$small"
unmount_small() { umount "$small" 2>/dev/null || true; }
bed_on_exit unmount_small

X software fetch tryton/7.0 >/dev/null
s=run-$XID
pw=$(X service create "$s" --software tryton --version 7.0 --db-backend sqlite --json | xoe_json 'd["service"]["admin_password"]')
show=$(X service show "$s" --json)
port=$(xoe_json 'd["service"]["port"]' <<<"$show")
pid=$(X service status "$s" --json | xoe_json 'd["service"]["pid"]')
gid=$(xoe_rpc "$port" "$s" admin "$pw" model.res.group.create '[[{"name": "before-full-disk"}]]' | xoe_json 'd[0]')

rc=0
err=$(OE_XOE_BACKUP_DIR=$small X backup "$s" 2>&1 >/dev/null) || rc=$?
bed_assert_eq 1 "$(grep -c . <<<"$err")" "one line on stderr for the backup onto a full disk ($err)"
# xoe's copy of the SQLite file (made by the service's user beside its data)
# into the staging folder hits it first: exit 1, an I/O error of xoe's own.
bed_assert_eq 1 "$rc" "exit code of a backup onto a full disk ($err)"
last=$err
[[ $last == xoe:* ]] || bed_fail "no error line: $err"
grep -qiE "full|space|No space left" <<<"$last" || bed_fail "the error does not say the disk is full: $last"
bed_log "the error: $last (exit $rc)"
bed_assert_eq "" "$(find "$small" -mindepth 2 | head -5)" "files left on the full filesystem"
bed_assert_eq "$pid" "$(X service status "$s" --json | xoe_json 'd["service"]["pid"]')" "the running service"
bed_assert_eq 1 "$(xoe_login "$port" "$s" admin "$pw")" "login after the failed backup"
bed_assert_eq 1 "$(xoe_sql "$show" "select count(*) from res_group where id = $gid")" "the record after the failed backup"
ok "backup onto a full disk: exit $rc, one error line, nothing left, the service untouched"

# With room again, the next backup works (nothing unfinished blocks it).
out=$(X backup "$s" --json)
a=$(xoe_json 'd["backup"]["archive"]' <<<"$out")
[[ -f $a ]] || bed_fail "no archive after the retry"
bed_assert_eq False "$(xoe_json 'd["backup"]["resumed"]' <<<"$out")" "the failed backup was rolled back, not left to resume"
ok "with room again: backup $a"

# ---------------------------------------------------------------- a restore onto a full disk
xoe_rpc "$port" "$s" admin "$pw" model.res.group.create '[[{"name": "after-the-backup"}]]' >/dev/null
work=$XROOT/var/lib/oe/xoe/work
mkdir -p "$work"
mount -t tmpfs -o size=1m oe-bed-small-work "$work"
unmount_work() { umount "$work" 2>/dev/null || true; }
bed_on_exit unmount_work
rc=0
err=$(X restore "$s" "$a" 2>&1 >/dev/null) || rc=$?
bed_assert_eq 1 "$rc" "exit code of a restore onto a full disk ($err)"
bed_assert_eq 1 "$(grep -c . <<<"$err")" "one line on stderr for the restore onto a full disk ($err)"
bed_assert_contains "$err" "No space left on device" "the restore's error says the disk is full"
bed_assert_eq "" "$(find "$work" -mindepth 1 | head -5)" "files left in the full work folder"
bed_assert_eq run "$(X service status "$s" --json | xoe_json 'd["service"]["state"]')" "the service after the failed restore"
bed_assert_eq 1 "$(xoe_login "$port" "$s" admin "$pw")" "login after the failed restore"
bed_assert_eq 1 "$(xoe_sql "$show" "select count(*) from res_group where name = 'after-the-backup'")" "the service's data as it was (not the archive's)"
unmount_work
out=$(X restore "$s" "$a" --json)
bed_assert_eq 0 "$(xoe_sql "$show" "select count(*) from res_group where name = 'after-the-backup'")" "the archive's data after the restore with room again"
bed_assert_eq 1 "$(xoe_login "$port" "$s" admin "$pw")" "login after the restore with room again"
ok "restore onto a full disk: exit 1, one line, the service as it was; with room again, restored"

X service remove "$s" >/dev/null
X supervisor stop >/dev/null
