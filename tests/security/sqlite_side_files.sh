# SPDX-License-Identifier: GPL-3.0-or-later
# Issue 13, the last hole: a SQLite service's side files. SQLite opens a
# database's -journal, -wal and -shm by name, in the data folder, which the
# service's user (the customer) changes at will; xoe opened them as root.
# The customer plants a FIFO as its database's -journal: root's xoe backup
# and xoe monitor then blocked forever in SQLite's open, holding the
# service's lock and stalling every other customer's backup and monitor
# after it (old code: the timeouts below fire). Now every SQLite operation
# runs in a child as the service's user whose opens refuse anything but a
# regular file: the backup fails at once naming the file, the monitor
# answers for both services (usage of the other one read), the other
# customer's backup works. A -wal linked to a root file outside the root:
# the backup fails, the file is unchanged. The SQLite copies are made by
# the service's user: xoe runs `xoe __sqlite` as that user (seen in the
# process list while a copy waits on a lock the customer holds).
source "${OE_SOURCE_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}/tests/security/lib.sh"
xoe_setup
sec_outside
X software fetch tryton/6.0 >/dev/null
p=p$XID q=q$XID
xoe_create "$p" 6.0 sqlite production >/dev/null
xoe_create "$q" 6.0 sqlite production >/dev/null
pdata=$(sec_data "$p") pu=$(stat -c %U "$(sec_data "$p")")
pdb=$(X service show "$p" --json | xoe_json 'd["service"]["database"]')
[[ -f $pdata/$pdb.sqlite ]] || bed_fail "no $pdata/$pdb.sqlite"

# ---- a FIFO as the journal
bed_as "$pu" mkfifo "$pdata/$pdb.sqlite-journal"
rc=0
err=$(timeout 60 xoe --root "$XROOT" backup "$p" 2>&1 >/dev/null) || rc=$?
((rc != 124)) || bed_fail "xoe backup $p blocked on the FIFO (killed after 60 s)"
((rc != 0)) || bed_fail "xoe backup $p succeeded with a FIFO as its journal"
bed_assert_contains "$err" "$pdb.sqlite-journal is not a regular file" "message of the backup"
[[ -p $pdata/$pdb.sqlite-journal ]] || bed_fail "the FIFO was removed"
ok "backup with a FIFO as its journal: exit $rc at once, naming it"

rc=0
out=$(timeout 60 xoe --root "$XROOT" monitor --json 2>"$BED_DIR/monitor.err") || rc=$?
((rc != 124)) || bed_fail "xoe monitor blocked on the FIFO (killed after 60 s)"
bed_assert_eq 0 "$rc" "exit code of the monitor ($(tail -n 1 "$BED_DIR/monitor.err"))"
users=$(xoe_json "[e for e in d['services'] if e['name'] == '$q'][0]['users']" <<<"$out")
[[ $users =~ ^[0-9]+$ ]] || bed_fail "the monitor did not read $q's users: $users"
rc=0
timeout 120 xoe --root "$XROOT" backup "$q" >/dev/null 2>"$BED_DIR/err" || rc=$?
bed_assert_eq 0 "$rc" "exit code of the other customer's backup ($(cat "$BED_DIR/err"))"
ok "monitor answers ($q: $users users), $q's backup works"

# ---- a -wal linked to a root file outside
rm -f "$pdata/$pdb.sqlite-journal"
bed_as "$pu" ln -s "$OUTSIDE/f1" "$pdata/$pdb.sqlite-wal"
rc=0
timeout 60 xoe --root "$XROOT" backup "$p" >/dev/null 2>"$BED_DIR/err" || rc=$?
((rc != 0 && rc != 124)) || bed_fail "backup with a -wal link out: exit $rc ($(cat "$BED_DIR/err"))"
bed_assert_contains "$(cat "$BED_DIR/err")" "$pdb.sqlite-wal is not a regular file" "message of the backup"
sec_assert_unchanged "backup with a -wal link out"
rm -f "$pdata/$pdb.sqlite-wal"
ok "backup with a -wal link out: refused, the file outside unchanged"

# ---- the copy is made by the service's user
# The customer holds a write lock; xoe's copy waits on it (busy retries), in its child.
bed_as "$pu" $py -c '
import sqlite3, sys, time
c = sqlite3.connect(sys.argv[1], isolation_level=None)
c.execute("BEGIN EXCLUSIVE")
print("locked", flush=True)
time.sleep(8)
c.execute("COMMIT")' "$pdata/$pdb.sqlite" >"$BED_DIR/locker.out" &
locker=$!
bed_wait 10 "the customer's lock" grep -q locked "$BED_DIR/locker.out"
timeout 120 xoe --root "$XROOT" backup "$p" >"$BED_DIR/backup.out" 2>"$BED_DIR/err" &
backup=$!
bed_wait 10 "xoe's SQLite child" pgrep -f "xoe __sqlite"
child=$(pgrep -f "xoe __sqlite" | head -n 1)
bed_assert_eq "$(id -u "$pu")" "$(ps -o uid= -p "$child" | tr -d ' ')" "the uid of xoe's SQLite child"
rc=0
wait "$backup" || rc=$?
wait "$locker" || true
bed_assert_eq 0 "$rc" "exit code of the backup after the lock ($(cat "$BED_DIR/err"))"
[[ -z $(find "$XROOT/var/lib/oe/xoe/services/$p" -maxdepth 1 -name '.xoe-sqlite-*') ]] || bed_fail "a scratch folder is left"
ok "the copy is made by $pu, and its scratch folder is gone"
bed_log "all ok"
