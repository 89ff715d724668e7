# SPDX-License-Identifier: GPL-3.0-or-later
# Attack test: a restore whose swap fails half-way, and whose own undo fails
# too, never destroys the only copy of the service's data. (Found so: a
# customer's tree made root's chown fail in the swap, the undo failed, the
# prepare step's undo then removed the work folder with the old data in
# it, and the job was recorded rolled_back.) Here an immutable file in the
# archive's data makes both the swap's chown and its undo fail, the way a
# tree root cannot change does. Then: the command fails with one line that
# says so, the job stays failed (not rolled_back), the old data and
# database are where the message says, and the next run, once the cause is
# gone, finishes the restore.
source "${OE_SOURCE_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}/tests/bed/bed.sh"
bed_init
source "$OE_SOURCE_DIR/tests/xoe/lib.sh"
xoe_setup
X software fetch tryton/7.0 >/dev/null
g=gamma-$XID
pw=$(xoe_create "$g" 7.0 sqlite production)
SVC=$XROOT/var/lib/oe/xoe/services/$g
DB=$SVC/data/$g.sqlite
WORK=$XROOT/var/lib/oe/xoe/work/$g
name_of() { sqlite3 "$1" "select name from res_user where login = 'admin'"; }
job_status() { sqlite3 "$XROOT/var/lib/oe/xoe/xoe.db" "select status from job where kind = 'service.restore' and key = 'service:$g' order by id desc limit 1"; }
bed_on_exit bash -c "chattr -i '$XROOT/var/lib/oe/xoe/work/$g/new-data/$g/keep.txt' '$XROOT/var/lib/oe/xoe/services/$g/data/$g/keep.txt' 2>/dev/null; true"

user=$(stat -c %U "$SVC/data")
mkdir -p "$SVC/data/$g"
echo archived >"$SVC/data/$g/keep.txt"
chown -R "$user:" "$SVC/data/$g"
sqlite3 "$DB" "update res_user set name = 'Archived' where login = 'admin'"
arch=$(X backup "$g" --json | xoe_json 'd["archive"]')
echo current >"$SVC/data/$g/keep.txt"
sqlite3 "$DB" "update res_user set name = 'Current' where login = 'admin'"
ok "gamma: an archive of 'Archived', the live data 'Current'"

# The restore, killed before its swap; then a file of the prepared data that root cannot chown nor remove.
rc=0; OE_CRASH_AT=service.restore:swap X restore "$g" "$arch" >/dev/null 2>&1 || rc=$?
bed_assert_eq 137 "$rc" "the killed restore"
[[ -f $WORK/new-data/$g/keep.txt ]] || bed_fail "no prepared data in $WORK/new-data"
chattr +i "$WORK/new-data/$g/keep.txt"

rc=0; err=$(X restore "$g" "$arch" 2>&1 >/dev/null) || rc=$?
[[ $rc -ne 0 ]] || bed_fail "the restore succeeded with an immutable file"
bed_assert_contains "$err" "undoing the half-done swap (the old data is kept in $WORK/old-data) failed too" "message"
[[ $(wc -l <<<"$err") == 1 ]] || bed_fail "more than one line: $err"
bed_assert_eq failed "$(job_status)" "the job after a failed undo"
bed_assert_eq current "$(cat "$WORK/old-data/$g/keep.txt" 2>&1)" "the old attachment, kept in the work folder"
bed_assert_eq Current "$(name_of "$WORK/old-data/$g.sqlite" 2>&1)" "the old database, kept in the work folder"
ok "swap and its undo failed: exit $rc, job failed, the old data kept in $WORK/old-data"

# An explicit run again, with the cause still there: still nothing removed.
rc=0; X restore "$g" "$arch" >/dev/null 2>&1 || rc=$?
[[ $rc -ne 0 ]] || bed_fail "the second run succeeded with the immutable file"
bed_assert_eq current "$(cat "$WORK/old-data/$g/keep.txt" 2>&1)" "the old attachment after a second run"
bed_assert_eq failed "$(job_status)" "the job after the second run"

# The cause gone, the next run finishes the restore.
chattr -i "$SVC/data/$g/keep.txt"
X restore "$g" "$arch" >/dev/null
bed_assert_eq done "$(job_status)" "the job once finished"
bed_assert_eq Archived "$(name_of "$DB")" "the restored database"
bed_assert_eq archived "$(cat "$SVC/data/$g/keep.txt")" "the restored attachment"
bed_assert_eq "$user" "$(stat -c %U "$SVC/data/$g/keep.txt")" "owner of the restored attachment"
[[ ! -e $WORK ]] || bed_fail "work folder left: $(ls -A "$WORK")"
bed_assert_eq 1 "$(xoe_login "$(X service show "$g" --json | xoe_json 'd["service"]["port"]')" "$g" admin "$pw")" "login after the restore"
ok "the next run finished the restore: data restored, work folder gone, login works"
