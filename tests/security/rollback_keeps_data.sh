# SPDX-License-Identifier: GPL-3.0-or-later
# Attack test: a restore whose swap fails half-way, and whose own undo fails
# too, never destroys the only copy of the service's data. (Found so: a
# customer's tree made root's chown fail in the swap, the undo failed, the
# prepare step's undo then removed the work folder with the old data in
# it, and the job was recorded rolled_back.) Here a file of the archive's
# data that root can neither chown nor remove (immutable) makes the swap
# fail; its undo puts the old data back by renames alone (the prepared data
# goes back to the work folder, nothing is removed), and the prepare step's
# undo, which removes the work folder, fails on that file. Then: the error
# names the file and the failed undo, the job stays failed (not
# rolled_back), the service runs on its old data; a second run first
# finishes that rollback (never resumes forward over half-undone steps),
# fails the same way; the next run once the cause is gone finishes the
# rollback, restores anew and succeeds.
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
arch=$(X backup "$g" --json | xoe_json 'd["backup"]["archive"]')
echo current >"$SVC/data/$g/keep.txt"
sqlite3 "$DB" "update res_user set name = 'Current' where login = 'admin'"
ok "gamma: an archive of 'Archived', the live data 'Current'"

# The restore, killed before its swap; then a file of the prepared data that
# root can neither chown (to the service's user, in the swap) nor remove.
rc=0; OE_CRASH_AT=service.restore:swap X restore "$g" "$arch" >/dev/null 2>&1 || rc=$?
bed_assert_eq 137 "$rc" "the killed restore"
[[ -f $WORK/new-data/$g/keep.txt ]] || bed_fail "no prepared data in $WORK/new-data"
chown root:root "$WORK/new-data/$g/keep.txt"  # the prepare step gave it to the service's user
chattr +i "$WORK/new-data/$g/keep.txt"

port=$(X service show "$g" --json | xoe_json 'd["service"]["port"]')
for run in 1 2; do
  rc=0; err=$(X restore "$g" "$arch" 2>&1 >/dev/null) || rc=$?
  [[ $rc -ne 0 ]] || bed_fail "run $run: the restore succeeded with an immutable file"
  # The effect first: the live data is the old one again, never removed (the
  # prepared copy, of which the archive is the source, is what the failed
  # undo left half removed), and the job is not called rolled back.
  bed_assert_eq current "$(cat "$SVC/data/$g/keep.txt" 2>&1)" "run $run: the live attachment"
  bed_assert_eq Current "$(name_of "$DB" 2>&1)" "run $run: the live database"
  bed_assert_eq failed "$(job_status)" "run $run: the job whose undo failed"
  bed_wait 60 "run $run: $g answering on its old data" xoe_login "$port" "$g" admin "$pw"
  # Then what it says.
  bed_assert_contains "$(tail -1 <<<"$err")" "keep.txt: Operation not permitted" "run $run: the error names the file"
  bed_assert_contains "$err" "undoing step prepare failed" "run $run: the failed undo is said"
done
ok "swap failed, its undo put the old data back by renames, the prepare's undo failed (twice: the next run finishes the rollback first): job failed, $g runs on its old data"

# The cause gone, the next run finishes the restore.
chattr -i "$WORK/new-data/$g/keep.txt"  # the undo put the prepared data back there
X restore "$g" "$arch" >/dev/null
bed_assert_eq done "$(job_status)" "the job once finished"
bed_assert_eq Archived "$(name_of "$DB")" "the restored database"
bed_assert_eq archived "$(cat "$SVC/data/$g/keep.txt")" "the restored attachment"
bed_assert_eq "$user" "$(stat -c %U "$SVC/data/$g/keep.txt")" "owner of the restored attachment"
[[ ! -e $WORK ]] || bed_fail "work folder left: $(ls -A "$WORK")"
bed_assert_eq 1 "$(xoe_login "$(X service show "$g" --json | xoe_json 'd["service"]["port"]')" "$g" admin "$pw")" "login after the restore"
ok "the next run finished the restore: data restored, work folder gone, login works"
