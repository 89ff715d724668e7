# SPDX-License-Identifier: GPL-3.0-or-later
# Backups of a removed service (Tryton 7.0 on SQLite): service remove leaves
# them and says how many; backup list shows them, marked as of a removed
# service (service_exists false, "(removed)"); backup prune applies the
# retention to them (and to a service's), each archive going with its
# .sha256 and .mac; --all removes every one of a removed service and is
# refused for a service that exists (4); bad names and options are refused
# with one line, nothing removed.
source "${OE_SOURCE_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}/tests/bed/bed.sh"
bed_init
source "$OE_SOURCE_DIR/tests/xoe/lib.sh"
xoe_setup
T0=$SECONDS

X software fetch tryton/7.0 >/dev/null
p=p-$XID k=k-$XID
xoe_create "$p" 7.0 sqlite production >/dev/null
xoe_create "$k" 7.0 sqlite production >/dev/null
backups=$XROOT/var/lib/oe/xoe/backups
# old SERVICE DAY...: copies of SERVICE's newest archive named as backups of
# those days at 02:00, with its .sha256 and .mac.
old() {
  local s=$1 a d
  shift
  a=$(X backup list "$s" --json | xoe_json 'd["backups"][0]["archive"]')
  for d in "$@"; do
    cp "$a" "$backups/$s/$s-${d}T020000Z.tar.zst"
    cp "$a.sha256" "$backups/$s/$s-${d}T020000Z.tar.zst.sha256"
    cp "$a.mac" "$backups/$s/$s-${d}T020000Z.tar.zst.mac"
  done
}
files() { (cd "$backups/$1" 2>/dev/null && ls | sort | tr '\n' ' '); }
X backup "$p" >/dev/null
X backup "$k" >/dev/null
old "$p" 20240101 20240102 20231215
old "$k" 20240101
newest_p=$(X backup list "$p" --json | xoe_json 'd["backups"][0]["archive"]')
bed_assert_eq "True True" "$(X backup list --json | xoe_json '" ".join(sorted({str(b["service_exists"]) for b in d["backups"]}) + [str(len(d["backups"]) == 6)])')" "backup list of two services"
ok "two services, each with archives ($((SECONDS - T0)) s)"

# ---------------------------------------------------------------- removal: the archives stay, and it says so
r=$(X service remove "$p" --json)
bed_assert_eq 4 "$(xoe_json 'd["removed"]["backups_kept"]' <<<"$r")" "backups_kept of service remove"
bed_assert_eq 12 "$(ls "$backups/$p" | wc -l)" "archives and sidecars left by the removal"
l=$(X backup list "$p" --json)
bed_assert_eq "4 False $p" "$(xoe_json '" ".join([str(len(d["backups"]))] + sorted({str(b["service_exists"]) + " " + b["service"] for b in d["backups"]}))' <<<"$l")" "backup list of the removed service"
l=$(X backup list --json)
bed_assert_eq "$k True 2|$p False 4" "$(xoe_json '"|".join(f"{s} {e} {n}" for (s, e), n in sorted(__import__("collections").Counter((b["service"], b["service_exists"]) for b in d["backups"]).items()))' <<<"$l")" "backup list of every service"
text=$(X backup list)
bed_assert_eq 4 "$(grep -c "^$p (removed) " <<<"$text")" "archives of the removed service marked in the text"
bed_assert_eq 2 "$(grep -c "^$k " <<<"$text")" "archives of the service in the text"
grep -q "^$k (removed)" <<<"$text" && bed_fail "a service that exists is marked removed: $text"
ok "service remove: its 4 archives stay and it says so; backup list marks them (removed)"

# ---------------------------------------------------------------- refused: nothing removed
before_p=$(files "$p") before_k=$(files "$k")
xoe_expect 4 "service $k exists: --all is for the archives of a removed service" backup prune "$k" --all
xoe_expect 3 "no service nosuch-$XID and no archive of it" backup prune "nosuch-$XID"
xoe_expect 3 "no service nosuch-$XID and no archive of it" backup prune "nosuch-$XID" --all
xoe_expect 2 "service name" backup prune "../$p" --all
xoe_expect 2 "excludes" backup prune "$p" --all --keep-daily 1
xoe_expect 2 "--all excludes --keep-daily" backup --keep-daily 1 prune "$p" --all
bed_assert_eq "$before_p" "$(files "$p")" "archives of $p after the refused prunes"
bed_assert_eq "$before_k" "$(files "$k")" "archives of $k after the refused prunes"
ok "prune --all of a service that exists (4), of an unknown name (3), bad name or options (2): nothing removed"

# ---------------------------------------------------------------- the retention, on a removed service's archives
r=$(X backup prune "$p" --keep-daily 1 --keep-weekly 0 --keep-monthly 0 --json)
bed_assert_eq "False 3 1" "$(xoe_json '" ".join(str(x) for x in (d["prune"]["service_exists"], len(d["prune"]["pruned"]), len(d["prune"]["kept"])))' <<<"$r")" "prune of the removed service"
bed_assert_eq "$newest_p" "$(xoe_json 'd["prune"]["kept"][0]' <<<"$r")" "the newest archive is kept"
bed_assert_eq "${newest_p##*/} ${newest_p##*/}.mac ${newest_p##*/}.sha256 " "$(files "$p")" "files left: the newest with its sidecars"
ok "backup prune of a removed service: the retention, each archive with its .sha256 and .mac"

r=$(X backup prune "$p" --all --json)
bed_assert_eq "$newest_p" "$(xoe_json '" ".join(d["prune"]["pruned"])' <<<"$r")" "prune --all"
[[ ! -e $backups/$p ]] || bed_fail "the removed service's backup folder is left: $(files "$p")"
bed_assert_eq 0 "$(X backup list --json | xoe_json 'len([b for b in d["backups"] if b["service"] == "'"$p"'"])')" "the removed service in backup list"
xoe_expect 3 "no service $p and no archive of it" backup prune "$p" --all
ok "backup prune --all: every archive of the removed service and its folder gone"

# ---------------------------------------------------------------- a service's own archives, with the configuration's retention
old "$k" 20240102 20240103
text=$(OE_XOE_BACKUP_KEEP_DAILY=2 OE_XOE_BACKUP_KEEP_WEEKLY=0 OE_XOE_BACKUP_KEEP_MONTHLY=0 X backup prune "$k")
bed_assert_eq 2 "$(grep -c '^pruned ' <<<"$text")" "pruned of $k ($text)"
bed_assert_eq 2 "$(grep -c '^kept ' <<<"$text")" "kept of $k ($text)"
bed_assert_eq 6 "$(ls "$backups/$k" | wc -l)" "archives and sidecars of $k after its prune"
bed_assert_contains "$(files "$k")" "$k-20240103T020000Z.tar.zst.mac" "the second day's archive kept"
text=$(X service remove "$k")
bed_assert_contains "$text" "2 archive(s) of $k kept (xoe backup list $k; xoe backup prune $k --all removes them)" "service remove says so"
ok "backup prune of a service (backup.keep_* of the configuration); service remove's note; all in $((SECONDS - T0)) s"
