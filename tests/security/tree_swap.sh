# SPDX-License-Identifier: GPL-3.0-or-later
# Hole 3 of issue 13: root changing owners (or copying, or reading) by full
# path in a tree the customer can change. A process of the service's own
# user keeps exchanging a folder and a symbolic link to a root-owned folder
# outside the root (renameat2 RENAME_EXCHANGE) in its data folder while
# root runs xoe backup, xoe restore, xoe db create and xoe students
# disseminate on it. Each command exits 0, and afterwards nothing outside
# the root changed owner or content, no secret of it is in an archive or in
# a data folder. On the old code (chown_tree by path, fs::copy), the
# restore handed the outside files to the service's user.
source "${OE_SOURCE_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}/tests/security/lib.sh"
xoe_setup
sec_outside
X software fetch tryton/6.0 >/dev/null
n=g$XID tr=g$XID-training
xoe_create "$n" 6.0 sqlite production >/dev/null
xoe_create "$tr" 6.0 sqlite training >/dev/null
data=$(sec_data "$n") trdata=$(sec_data "$tr")
u=$(stat -c %U "$data") tru=$(stat -c %U "$trdata")
# Attachments of the production database (Tryton: DATA/DATABASE/), which disseminate copies.
mkdir -p "$data/$n/aa" && echo attachment >"$data/$n/aa/file1" && chown -R "$u:" "$data/$n"
a=$(X backup "$n" --json | xoe_json 'd["backup"]["archive"]')
ok "services $n, $tr (6.0, SQLite); archive $a"

no_secret_in() { ! grep -rqs "SECRET-$BED_ID" "$@" || bed_fail "a secret of the outside folder is in $*"; }

# ---------------------------------------------------------------- backup
sec_swap "$u" "$data"
a2=$(X backup "$n" --json | xoe_json 'd["backup"]["archive"]')
sec_swap_stop
sec_assert_unchanged "backup during the swap"
[[ -z $(tar --zstd -xOf "$a2" 2>/dev/null | grep -a "SECRET-$BED_ID") ]] || bed_fail "root read the outside folder into $a2"
ok "backup during the swap: nothing of the outside folder in the archive"

# ---------------------------------------------------------------- restore
sec_swap "$u" "$data"
rc=0
X restore "$n" "$a2" >/dev/null 2>"$BED_DIR/err" || rc=$?  # the newest: retention kept only it
sec_swap_stop
sec_assert_unchanged "restore during the swap"
bed_assert_eq 0 "$rc" "exit code of the restore during the swap ($(cat "$BED_DIR/err"))"
bed_assert_eq "$u" "$(stat -c %U "$data/$n/aa/file1")" "the restored data is the service's"
no_secret_in "$data"
ok "restore during the swap: exit 0, the outside untouched"

# ---------------------------------------------------------------- db create
X db drop "$n" >/dev/null
sec_swap "$u" "$data"
rc=0
X db create "$n" >/dev/null 2>"$BED_DIR/err" || rc=$?
sec_swap_stop
sec_assert_unchanged "db create during the swap"
bed_assert_eq 0 "$rc" "exit code of db create during the swap ($(cat "$BED_DIR/err"))"
ok "db create during the swap: exit 0, the outside untouched"

# ---------------------------------------------------------------- students disseminate
mkdir -p "$data/$n/aa" && echo attachment >"$data/$n/aa/file1" && chown -R "$u:" "$data/$n"
sec_swap "$u" "$data/$n"    # in the attachments the dissemination copies
sec_swap "$tru" "$trdata"   # in the data folder of the server of the copies
rc=0
X students disseminate "$n" --group g1 --students 2 >/dev/null 2>"$BED_DIR/err" || rc=$?
sec_swap_stop
sec_assert_unchanged "students disseminate during the swap"
bed_assert_eq 0 "$rc" "exit code of students disseminate during the swap ($(cat "$BED_DIR/err"))"
no_secret_in "$trdata"
bed_assert_eq "$tru" "$(stat -c %U "$trdata/$n-g1-student01/aa/file1")" "a student's attachments are the server's"
ok "students disseminate during the swap: exit 0, the outside untouched, no secret copied"
