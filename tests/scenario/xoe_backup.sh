# SPDX-License-Identifier: GPL-3.0-or-later
# xoe backups on the real thing: Tryton 7.0 on SQLite and 6.0 on the bed's
# PostgreSQL. A record created through JSON-RPC, a backup (one archive with
# its sha256), the record destroyed or the whole service removed, a restore,
# the record back and the login working; a restore into a new training
# service, neutralised; a restore --as of a production neutralised (role
# test) unless --role production asks for a live copy, its server started
# and its password set once, its URL, port and database in --json; corrupt,
# truncated and foreign archives refused
# before anything is touched; a killed backup and a killed restore finished
# by the next run (a restore killed on SQLite and on PostgreSQL); the
# retention; backup verify.
source "${OE_SOURCE_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}/tests/bed/bed.sh"
bed_init
source "$OE_SOURCE_DIR/tests/xoe/lib.sh"
bed_postgres
xoe_setup
T0=$SECONDS

X software fetch tryton/7.0 >/dev/null
X software fetch tryton/6.0 >/dev/null
s7=b7-$XID s6=b6-$XID
pw7=$(X service create "$s7" --software tryton --version 7.0 --db-backend sqlite --json | xoe_json 'd["service"]["admin_password"]')
pw6=$(X service create "$s6" --software tryton --version 6.0 --db-backend postgresql --json | xoe_json 'd["service"]["admin_password"]')
show7=$(X service show "$s7" --json) show6=$(X service show "$s6" --json)
port7=$(xoe_json 'd["service"]["port"]' <<<"$show7") port6=$(xoe_json 'd["service"]["port"]' <<<"$show6")
ok "services $s7 (7.0, SQLite) and $s6 (6.0, PostgreSQL) in $((SECONDS - T0)) s"

# A record, created through JSON-RPC, and an attachment file in the data folder.
gid7=$(xoe_rpc "$port7" "$s7" admin "$pw7" model.res.group.create '[[{"name": "before-backup"}]]' | xoe_json 'd[0]')
gid6=$(xoe_rpc "$port6" "$s6" admin "$pw6" model.res.group.create '[[{"name": "before-backup"}]]' | xoe_json 'd[0]')
mkdir -p "$XROOT/var/lib/oe/xoe/services/$s7/data/$s7/aa"
echo attachment >"$XROOT/var/lib/oe/xoe/services/$s7/data/$s7/aa/file1"
bed_assert_eq 1 "$(xoe_sql "$show7" "select count(*) from res_group where name = 'before-backup'")" "record in $s7"

# Its own settings go into the archive too (restore --as gives them to the new service).
X service config set "$s7" session_timeout=900 >/dev/null

# ---------------------------------------------------------------- backup
t0=$SECONDS
b7=$(X backup "$s7" --json)
ok "backup of $s7 in $((SECONDS - t0)) s"
bed_assert_eq "backup,version archive,bytes,metadata,pruned,resumed,sha256" "$(xoe_json '",".join(sorted(d)) + " " + ",".join(sorted(d["backup"]))' <<<"$b7")" "backup --json fields"
a7=$(xoe_json 'd["backup"]["archive"]' <<<"$b7")
[[ $a7 == "$XROOT/var/lib/oe/xoe/backups/$s7/$s7-"*Z.tar.zst && -f $a7 ]] || bed_fail "archive path $a7"
bed_assert_eq "$(sha256sum "$a7" | cut -d' ' -f1)" "$(xoe_json 'd["backup"]["sha256"]' <<<"$b7")" "sha256"
bed_assert_eq "$(sha256sum "$a7" | cut -d' ' -f1)  ${a7##*/}" "$(cat "$a7.sha256")" "sha256 file"
bed_assert_eq "$(stat -c %s "$a7")" "$(xoe_json 'd["backup"]["bytes"]' <<<"$b7")" "bytes"
bed_assert_eq "$s7 tryton 7.0 production sqlite $s7" \
  "$(xoe_json '" ".join(d["backup"]["metadata"][k] for k in ("service","software","version","role","backend","database"))' <<<"$b7")" "metadata"
members=$(tar --zstd -tf "$a7" | sort | tr '\n' ' ')
for m in metadata.json database.sqlite config/trytond.conf "data/$s7/aa/file1"; do
  bed_assert_contains "$members" "$m " "archive member"
done
[[ $members != *"data/$s7.sqlite"* ]] || bed_fail "the live database file is in the archive"
! grep -qF "$pw7" <(tar --zstd -xOf "$a7" metadata.json config/trytond.conf) || bed_fail "password in the archive"
t0=$SECONDS
b6=$(X backup "$s6" --json)
a6=$(xoe_json 'd["backup"]["archive"]' <<<"$b6")
bed_assert_contains "$(tar --zstd -tf "$a6" | tr '\n' ' ')" "database.dump" "pg_dump in the archive"
ok "backup: one archive with dump, attachments, config, metadata; sha256 beside it ($s6 in $((SECONDS - t0)) s)"

# ---------------------------------------------------------------- destroy, restore in place
xoe_rpc "$port7" "$s7" admin "$pw7" model.res.group.delete "[[$gid7]]" >/dev/null
rm -r "$XROOT/var/lib/oe/xoe/services/$s7/data/$s7/aa"
bed_assert_eq 0 "$(xoe_sql "$show7" "select count(*) from res_group where name = 'before-backup'")" "record destroyed"
t0=$SECONDS
r=$(X restore "$s7" "$a7" --json)
ok "restore of $s7 in place in $((SECONDS - t0)) s"
bed_assert_eq "False False" "$(xoe_json 'str(d["restore"]["created"])+" "+str(d["restore"]["neutralised"])' <<<"$r")" "restore in place"
bed_assert_eq 1 "$(xoe_sql "$show7" "select count(*) from res_group where name = 'before-backup'")" "record back"
bed_assert_eq attachment "$(cat "$XROOT/var/lib/oe/xoe/services/$s7/data/$s7/aa/file1")" "attachment back"
bed_assert_eq "xoe-$s7" "$(stat -c %U "$XROOT/var/lib/oe/xoe/services/$s7/data/$s7.sqlite")" "database owner"
bed_assert_eq 1 "$(xoe_login "$port7" "$s7" admin "$pw7")" "login after restore"
bed_assert_eq run "$(X service status "$s7" --json | xoe_json 'd["service"]["state"]')" "running after restore"
[[ ! -e $XROOT/var/lib/oe/xoe/work/$s7 ]] || bed_fail "work folder left"
ok "record destroyed, restored in place: record and attachment back, login with the service's password"

# ---------------------------------------------------------------- remove, restore creates it again
X service remove "$s6" >/dev/null
[[ $(psql -X -A -t -c "select count(*) from pg_database where datname = '$s6'") == 0 ]] || bed_fail "database $s6 left"
t0=$SECONDS
r=$(X restore "$s6" "$a6" --json)
ok "restore of the removed $s6 in $((SECONDS - t0)) s"
bed_assert_eq True "$(xoe_json 'd["restore"]["created"]' <<<"$r")" "restore created the service"
npw6=$(xoe_json 'd["restore"]["admin_password"]' <<<"$r")
show6=$(X service show "$s6" --json)
port6=$(xoe_json 'd["service"]["port"]' <<<"$show6")
bed_assert_eq "$gid6" "$(xoe_sql "$show6" "select id from res_group where name = 'before-backup'")" "record back in $s6"
bed_assert_eq 1 "$(xoe_login "$port6" "$s6" admin "$npw6")" "login with the new password"
xoe_login "$port6" "$s6" admin "$pw6" >/dev/null 2>&1 && bed_fail "the old password still logs in"
bed_assert_eq "0" "$(psql -X -A -t -c "select count(*) from pg_database where datname like 'xoe-new-%' or datname like 'xoe-old-%'")" "temporary databases"
ok "service removed, restored from its archive: created again, record back, login with its new password"

# ---------------------------------------------------------------- restore --as: a neutralised training copy
c7=c7-$XID
r=$(X restore "$s7" "$a7" --as "$c7" --role training --json)
bed_assert_eq "True True" "$(xoe_json 'str(d["restore"]["created"])+" "+str(d["restore"]["neutralised"])' <<<"$r")" "restore --as"
showc=$(X service show "$c7" --json)
bed_assert_eq "training" "$(xoe_json 'd["service"]["role"]' <<<"$showc")" "role of the copy"
bed_assert_eq 1 "$(xoe_sql "$showc" "select count(*) from res_group where name = 'before-backup'")" "record in the copy"
bed_assert_eq 0 "$(xoe_sql "$showc" "select count(*) from ir_cron where active")" "crons off in the copy"
[[ $(xoe_sql "$show7" "select count(*) from ir_cron where active") -gt 0 ]] || bed_fail "the source has no active cron to compare with"
bed_assert_contains "$(xoe_sql "$showc" "select name from res_user where login = 'admin'")" "[training copy of $s7]" "marker"
bed_assert_contains "$(cat "$XROOT/var/lib/oe/xoe/services/$c7/trytond.conf")" $'[email]\nuri = smtp://127.0.0.1:1' "mail of the copy"
bed_assert_eq attachment "$(cat "$XROOT/var/lib/oe/xoe/services/$c7/data/$c7/aa/file1")" "attachments follow the database name"
bed_assert_eq "900" "$(xoe_json 'd["restore"]["metadata"]["settings"]["session_timeout"]' <<<"$r")" "settings in the archive's metadata"
bed_assert_eq "session_timeout 900 set" "$(X service config show "$c7" --json | xoe_json '" ".join(e["key"] + " " + str(e["value"]) + " " + e["origin"] for e in d["config"]["settings"] if e["key"] == "session_timeout")')" "the archived setting on the new service"
bed_assert_contains "$(cat "$XROOT/var/lib/oe/xoe/services/$c7/trytond.conf")" $'[session]\ntimeout = 900' "in its config"
bed_assert_eq 1 "$(xoe_login "$(xoe_json 'd["service"]["port"]' <<<"$showc")" "$c7" admin "$(xoe_json 'd["restore"]["admin_password"]' <<<"$r")")" "login in the copy"
X service remove "$c7" >/dev/null
ok "restore --as a training service: record there, crons off, marker, mail to the catcher, its settings, login"

# ---------------------------------------------------------------- restore --as of a production: no second live production
# A copy made to look at yesterday's data runs no cron and sends no mail:
# role test unless --role production is asked for. The new server is
# started once and its password set once (-vv: each start, and each
# command xoe runs, on stderr).
bed_assert_eq production "$(tar --zstd -xOf "$a7" metadata.json | xoe_json 'd["role"]')" "role in the archive"
d7=d7-$XID
t0=$SECONDS
r=$(X -vv restore "$s7" "$a7" --as "$d7" --json 2>"$BED_DIR/restore-as.err")
ok "restore --as $d7 in $((SECONDS - t0)) s ($(xoe_json '"%.1f" % d["restore"]["seconds"]' <<<"$r") s by xoe's clock)"
showd=$(X service show "$d7" --json)
bed_assert_eq "test True True" "$(xoe_json 'd["restore"]["role"]+" "+str(d["restore"]["created"])+" "+str(d["restore"]["neutralised"])' <<<"$r")" "restore --as of a production"
bed_assert_eq test "$(xoe_json 'd["service"]["role"]' <<<"$showd")" "role of the copy of a production"
bed_assert_eq 0 "$(xoe_sql "$showd" "select count(*) from ir_cron where active")" "crons off in the copy of a production"
bed_assert_contains "$(cat "$XROOT/var/lib/oe/xoe/services/$d7/trytond.conf")" $'[email]\nuri = smtp://127.0.0.1:1' "mail of the copy of a production"
bed_assert_contains "$(xoe_sql "$showd" "select name from res_user where login = 'admin'")" "[test copy of $s7]" "marker of the copy of a production"
for k in url port database; do
  bed_assert_eq "$(xoe_json "d['service']['$k']" <<<"$showd")" "$(xoe_json "d['restore']['$k']" <<<"$r")" "restore --json: $k"
done
bed_assert_eq "http://127.0.0.1:$(xoe_json 'd["restore"]["port"]' <<<"$r")/" "$(xoe_json 'd["restore"]["url"]' <<<"$r")" "restore --json: url of the port"
bed_assert_eq 1 "$(xoe_login "$(xoe_json 'd["restore"]["port"]' <<<"$r")" "$(xoe_json 'd["restore"]["database"]' <<<"$r")" admin "$(xoe_json 'd["restore"]["admin_password"]' <<<"$r")")" "login with restore --json alone"
bed_assert_eq 1 "$(grep -c "starting $d7 (" "$BED_DIR/restore-as.err")" "starts of the new server: $(grep "starting $d7 (" "$BED_DIR/restore-as.err")"
# Its own admin password, written as a hash (database.password_sql), not by trytond-admin -p; the login above uses it.
bed_assert_eq 0 "$(grep -c "running .*trytond-admin .*-d $d7 -p" "$BED_DIR/restore-as.err")" "trytond-admin -p runs: $(grep "trytond-admin" "$BED_DIR/restore-as.err")"
! grep -qF "$(xoe_json 'd["restore"]["admin_password"]' <<<"$r")" "$BED_DIR/restore-as.err" || bed_fail "the new password in xoe's -vv output"
X service remove "$d7" >/dev/null
# Under another name without --as: a copy too.
n7=n7-$XID
r=$(X restore "$n7" "$a7" --json)
bed_assert_eq "test True" "$(xoe_json 'd["restore"]["role"]+" "+str(d["restore"]["neutralised"])' <<<"$r")" "restore of a production under another name"
bed_assert_eq 0 "$(xoe_sql "$(X service show "$n7" --json)" "select count(*) from ir_cron where active")" "crons off under another name"
X service remove "$n7" >/dev/null
# A live copy only when asked for.
e7=e7-$XID
r=$(X restore "$s7" "$a7" --as "$e7" --role production --json)
bed_assert_eq "production False" "$(xoe_json 'd["restore"]["role"]+" "+str(d["restore"]["neutralised"])' <<<"$r")" "restore --as --role production"
showe=$(X service show "$e7" --json)
bed_assert_eq "$(xoe_sql "$show7" "select count(*) from ir_cron where active")" "$(xoe_sql "$showe" "select count(*) from ir_cron where active")" "crons of the live copy as in the source"
[[ $(xoe_sql "$showe" "select count(*) from ir_cron where active") -gt 0 ]] || bed_fail "no active cron in the live copy"
[[ $(cat "$XROOT/var/lib/oe/xoe/services/$e7/trytond.conf") != *"smtp://127.0.0.1:1"* ]] || bed_fail "the live copy's mail goes to the catcher"
X service remove "$e7" >/dev/null
ok "restore --as of a production: role test, crons off, mail to the catcher, started and given its password once, url/port/database in --json; --role production: a live copy"

# ---------------------------------------------------------------- bad archives: nothing touched
pid7=$(X service status "$s7" --json | xoe_json 'd["service"]["pid"]')
expect() {
  local code=$1 part=$2 rc=0 err
  shift 2
  err=$(X "$@" 2>&1 >/dev/null) || rc=$?
  bed_assert_eq "$code" "$rc" "exit code of xoe $*"
  bed_assert_contains "$err" "$part" "message of xoe $*"
  [[ $(wc -l <<<"$err") == 1 ]] || bed_fail "more than one line for xoe $*: $err"
}
bad=$BED_DIR/bad && mkdir -p "$bad"
cp "$a7" "$bad/x-20240101T000000Z.tar.zst"; cp "$a7.sha256" "$bad/x-20240101T000000Z.tar.zst.sha256"
printf 'garbage' | dd of="$bad/x-20240101T000000Z.tar.zst" bs=1 seek=2000 conv=notrunc status=none
expect 2 "sha256 differs" restore "$s7" "$bad/x-20240101T000000Z.tar.zst"
head -c $(($(stat -c %s "$a7") / 2)) "$a7" >"$bad/t-20240101T000000Z.tar.zst"
(cd "$bad" && sha256sum t-20240101T000000Z.tar.zst >t-20240101T000000Z.tar.zst.sha256)
# Its sha256 made again, but not its MAC: not this root's archive; given
# --trust, read to its end and found truncated.
expect 2 "archive t-20240101T000000Z.tar.zst is not authenticated: it has no t-20240101T000000Z.tar.zst.mac" \
  restore "$s7" "$bad/t-20240101T000000Z.tar.zst"
cp "$a7.mac" "$bad/t-20240101T000000Z.tar.zst.mac"
expect 2 "its MAC does not match this root's backup key" restore "$s7" "$bad/t-20240101T000000Z.tar.zst"
expect 2 "corrupt archive t-20240101T000000Z.tar.zst" restore "$s7" "$bad/t-20240101T000000Z.tar.zst" --trust
expect 2 "corrupt archive t-20240101T000000Z.tar.zst" backup verify "$bad/t-20240101T000000Z.tar.zst" --trust
cp "$a7" "$bad/n-20240101T000000Z.tar.zst"
expect 2 "no n-20240101T000000Z.tar.zst.sha256" restore "$s7" "$bad/n-20240101T000000Z.tar.zst"
expect 3 "no archive" restore "$s7" "$bad/nosuch.tar.zst"
expect 4 "the archive holds tryton/6.0, service $s7 runs tryton/7.0" restore "$s7" "$a6"
expect 4 "service $s6 exists" restore "$s7" "$a7" --as "$s6"
expect 2 "--role test: service $s7 exists and keeps its role production" restore "$s7" "$a7" --role test
# forge SOURCE NAME PYTHON: a copy of archive SOURCE whose metadata.json is
# changed by PYTHON (on the dict m), with its sha256 and no MAC: an archive of
# something else, restored with --trust.
forge() {
  local dir=$bad/forge-$2
  mkdir -p "$dir" && tar --zstd -xf "$1" -C "$dir"
  /usr/bin/python3 -c "import json,sys; p=sys.argv[1]; m=json.load(open(p)); $3; json.dump(m, open(p, 'w'))" "$dir/metadata.json"
  # shellcheck disable=SC2046 # the members' names have no spaces
  tar --zstd -cf "$bad/$2-20240101T000000Z.tar.zst" -C "$dir" $(ls -A "$dir")
  (cd "$bad" && sha256sum "$2-20240101T000000Z.tar.zst" >"$2-20240101T000000Z.tar.zst.sha256")
}
forge "$a7" odoo 'm.update(software="odoo", version="17.0")'
expect 4 "the archive holds odoo/17.0, service $s7 runs tryton/7.0" restore "$s7" "$bad/odoo-20240101T000000Z.tar.zst" --trust
expect 2 "odoo/17.0 does not run on sqlite" restore "$s7" "$bad/odoo-20240101T000000Z.tar.zst" --trust --as "o-$XID"
forge "$a6" odoo-pg 'm.update(software="odoo", version="17.0")'
expect 6 "odoo/17.0 is not fetched" restore "$s7" "$bad/odoo-pg-20240101T000000Z.tar.zst" --trust --as "o-$XID"
forge "$a6" backend 'm.update(version="7.0")'
expect 4 "the archive holds a postgresql database, service $s7 uses sqlite" restore "$s7" "$bad/backend-20240101T000000Z.tar.zst" --trust
[[ -z $(X service list --json | xoe_json '[s["name"] for s in d["services"] if s["name"] == "o-'"$XID"'"]' | tr -d '[]') ]] ||
  bed_fail "the refused restore --as left a service"
bed_assert_eq "$pid7" "$(X service status "$s7" --json | xoe_json 'd["service"]["pid"]')" "service untouched"
bed_assert_eq 1 "$(xoe_login "$port7" "$s7" admin "$pw7")" "login after the refused restores"
[[ ! -e $XROOT/var/lib/oe/xoe/work/$s7 ]] || bed_fail "work folder after refused restores"
ok "corrupt, truncated, unsigned, missing and foreign archives (another version, software, backend): exit 2/3/4/6, one line, the service untouched"

# ---------------------------------------------------------------- crashes
xoe_rpc "$port7" "$s7" admin "$pw7" model.res.group.create '[[{"name": "after-backup"}]]' >/dev/null
rc=0; OE_CRASH_AT=service.restore:swap X restore "$s7" "$a7" >/dev/null 2>&1 || rc=$?
bed_assert_eq 137 "$rc" "killed restore"
bed_assert_eq down "$(X service status "$s7" --json | xoe_json 'd["service"]["state"]')" "stopped by the killed restore"
rc=0; err=$(X restore "$s7" "$a6" 2>&1 >/dev/null) || rc=$?
bed_assert_eq 4 "$rc" "another archive while a restore is unfinished"
t0=$SECONDS
bed_assert_eq True "$(X restore "$s7" "$a7" --json | xoe_json 'd["restore"]["resumed"]')" "restore resumed"
bed_assert_eq 0 "$(xoe_sql "$show7" "select count(*) from res_group where name = 'after-backup'")" "restored state"
bed_assert_eq 1 "$(xoe_login "$port7" "$s7" admin "$pw7")" "login after the resumed restore"
[[ ! -e $XROOT/var/lib/oe/xoe/work/$s7 ]] || bed_fail "work folder left after resume"
ok "restore killed at swap (SQLite): the next run resumed it in $((SECONDS - t0)) s, nothing left"

# The same on PostgreSQL, killed after the databases were swapped.
xoe_rpc "$port6" "$s6" admin "$npw6" model.res.group.create '[[{"name": "after-backup-6"}]]' >/dev/null
rc=0; OE_CRASH_AT=service.restore:password X restore "$s6" "$a6" >/dev/null 2>&1 || rc=$?
bed_assert_eq 137 "$rc" "killed restore (PostgreSQL)"
bed_assert_eq 1 "$(psql -X -A -t -c "select count(*) from pg_database where datname like 'xoe-old-%'")" "the old database kept aside by the killed restore"
bed_assert_eq True "$(X restore "$s6" "$a6" --json | xoe_json 'd["restore"]["resumed"]')" "restore resumed (PostgreSQL)"
bed_assert_eq 0 "$(xoe_sql "$show6" "select count(*) from res_group where name = 'after-backup-6'")" "restored state (PostgreSQL)"
bed_assert_eq 1 "$(xoe_login "$port6" "$s6" admin "$npw6")" "login after the resumed restore (PostgreSQL)"
bed_assert_eq 0 "$(psql -X -A -t -c "select count(*) from pg_database where datname like 'xoe-new-%' or datname like 'xoe-old-%'")" "databases left by the resumed restore"
[[ ! -e $XROOT/var/lib/oe/xoe/work/$s6 ]] || bed_fail "work folder left after the resumed restore (PostgreSQL)"
ok "restore killed after its swap (PostgreSQL): the next run finished it, nothing left"

rc=0; OE_CRASH_AT=service.backup:archive:after X backup "$s7" >/dev/null 2>&1 || rc=$?
bed_assert_eq 137 "$rc" "killed backup"
[[ -d $XROOT/var/lib/oe/xoe/backups/$s7/.partial ]] || bed_fail "the killed backup left no staging folder to resume"
bed_assert_eq True "$(X backup "$s7" --json | xoe_json 'd["backup"]["resumed"]')" "backup resumed"
[[ ! -e $XROOT/var/lib/oe/xoe/backups/$s7/.partial ]] || bed_fail "staging folder left"
[[ -z $(find "$XROOT/var/lib/oe/xoe/backups/$s7" -name '.*.tmp') ]] || bed_fail "temporary archive left"
# The retention (7 daily by default) keeps the newest archive of today only.
bed_assert_eq 1 "$(ls "$XROOT/var/lib/oe/xoe/backups/$s7"/*.tar.zst | wc -l)" "archives after the resumed backup"
a7=$(X backup list "$s7" --json | xoe_json 'd["backups"][0]["archive"]')
bed_assert_eq 0 "$(tar --zstd -xOf "$a7" database.sqlite >"$BED_DIR/db.sqlite" && sqlite3 "$BED_DIR/db.sqlite" "select count(*) from res_group where name = 'after-backup'")" "the resumed backup is of after the restore"
ok "backup killed after its archive step: the next run finished it, nothing left"

# ---------------------------------------------------------------- retention
dir=$XROOT/var/lib/oe/xoe/backups/$s7
for d in 20240101 20240102 20240103 20231215 20231101; do
  cp "$a7" "$dir/$s7-${d}T020000Z.tar.zst"; cp "$a7.sha256" "$dir/$s7-${d}T020000Z.tar.zst.sha256"
done
r=$(X backup "$s7" --keep-daily 2 --keep-weekly 0 --keep-monthly 2 --json)
kept=$(cd "$dir" && ls *.tar.zst | sed "s/^$s7-//" | cut -c1-8 | sort -u | tr '\n' ' ')
today=$(date -u +%Y%m%d)
# daily 2: today and 3 January; monthly 2: this month (today) and January 2024 (3 January, already kept)
bed_assert_eq "20240103 $today " "$kept" "days kept"
bed_assert_eq 2 "$(cd "$dir" && ls *.tar.zst | wc -l)" "archives kept (the newest of each day)"
[[ $(ls "$dir"/*.sha256 | wc -l) == $(ls "$dir"/*.tar.zst | wc -l) ]] || bed_fail "sha256 files left by the retention"
ok "retention: kept $kept, pruned $(xoe_json 'len(d["backup"]["pruned"])' <<<"$r")"

# ---------------------------------------------------------------- verify
last=$(X backup list "$s7" --json | xoe_json 'd["backups"][0]["archive"]')
t0=$SECONDS
rc=0; v=$(X backup verify "$last" --json) || rc=$?
bed_assert_eq 0 "$rc" "backup verify exit code ($v)"
bed_assert_eq True "$(xoe_json 'd["verify"]["ok"]' <<<"$v")" "verify ok: $v"
scratch=$(xoe_json 'd["verify"]["scratch"]' <<<"$v")
rc=0; X service show "$scratch" >/dev/null 2>&1 || rc=$?
bed_assert_eq 3 "$rc" "scratch service removed"
! id "xoe-$scratch" >/dev/null 2>&1 || bed_fail "scratch user left"
bed_assert_eq 1 "$(sqlite3 "$XROOT/var/lib/oe/xoe/xoe.db" "select count(*) from backup_verifications where ok = 1")" "verification recorded"
ok "backup verify: restored, started, logged in in $(xoe_json '"%.1f s (login %.0f ms)" % (d["verify"]["restore_seconds"], d["verify"]["login_ms"])' <<<"$v"), removed; took $((SECONDS - t0)) s"

! grep -rqF -e "$pw7" -e "$npw6" "$XROOT/var/log" || bed_fail "a password is in a log"
X supervisor stop >/dev/null
ok "all in $((SECONDS - T0)) s"
