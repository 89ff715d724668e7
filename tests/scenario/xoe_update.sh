# SPDX-License-Identifier: GPL-3.0-or-later
# Each service's own code, updates and upgrades on the real thing (Tryton 6.0
# and 7.0): a service created with a poe series runs its own copy of the
# code (hard links, the changed file its own); an update with a series that
# breaks the module update is rolled back (old code, old database, running,
# the record there); an update killed in the middle is resumed by the next
# run; an upgrade 6.0 -> 7.0 of a service whose customisation merges runs
# 7.0 with the customisation and its data; one whose customisation conflicts
# is refused with poe's report and left untouched; an upgrade whose
# migration fails (SQLite) is rolled back: 6.0, its database file, running.
# Backups keep the series: a restore brings the archived code back.
source "${OE_SOURCE_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}/tests/bed/bed.sh"
bed_init
source "$OE_SOURCE_DIR/tests/xoe/lib.sh"
bed_postgres
xoe_setup
P() { poe --root "$XROOT" "$@"; }
T0=$SECONDS

X software fetch tryton/6.0 >/dev/null
X software fetch tryton/7.0 >/dev/null
sw=$XROOT/var/lib/oe/xoe/software/tryton
std6=$sw/6.0/root/usr/lib/python3/dist-packages/trytond
std7=$sw/7.0/root/usr/lib/python3/dist-packages/trytond
v6=$(sed -n 's/^__version__ = "\(.*\)"/\1/p' "$std6/__init__.py")
[[ $v6 == 6.0.* ]] || bed_fail "version of $std6: $v6"
work=$BED_DIR/work
mkdir -p "$work"

# series NAME: the differences of the tree $work/NAME.tree from the standard 6.0.
series() { P diff --standard "tryton/$v6" "$work/$1.tree" --output "$work/$1" >/dev/null; }

# A harmless customisation of an activated module (res), and one that breaks
# the module update (a record of a model that does not exist).
cp -a "$std6" "$work/good.tree"
sed -i '0,/<data>/s//<data>\n        <!-- customised by the integrator -->/' "$work/good.tree/res/user.xml"
sed -i '0,/<field name="name">Users<\/field>/s//<field name="name">Users (customised)<\/field>/' "$work/good.tree/res/user.xml"
grep -q "Users (customised)" "$work/good.tree/res/user.xml" || bed_fail "the customisation of res/user.xml"
series good
cp -a "$work/good.tree" "$work/bad.tree"
sed -i '0,/<data>/s//<data>\n        <record model="xoe.nosuch" id="xoe_broken"><field name="name">broken<\/field><\/record>/' \
  "$work/bad.tree/res/user.xml"
series bad

# ---------------------------------------------------------------- own code
u=u6-$XID
pw=$(X service create "$u" --software tryton --version 6.0 --db-backend sqlite --patches "$work/good" --json |
  xoe_json 'd["service"]["admin_password"]')
port=$(X service show "$u" --json | xoe_json 'd["service"]["port"]')
code=$XROOT/var/lib/oe/xoe/services/$u/code
grep -q "customised by the integrator" "$code/tree/res/user.xml" || bed_fail "the service's code lacks its customisation"
grep -q "customised by the integrator" "$std6/res/user.xml" && bed_fail "the standard was changed"
bed_assert_eq "$(stat -c %i "$std6/res/user.py")" "$(stat -c %i "$code/tree/res/user.py")" "an unchanged file is a hard link"
[[ $(stat -c %i "$std6/res/user.xml") != $(stat -c %i "$code/tree/res/user.xml") ]] || bed_fail "the changed file is shared"
bed_assert_eq "$code/tree" "$(readlink -f "$code/site/trytond")" "the service's site uses its own code"
bed_assert_eq "series" "$(ls "$code/series" | grep -x series)" "the series is kept with the code"
bed_assert_eq 1 "$(xoe_login "$port" "$u" admin "$pw")" "login into the customised service"
pid=$(X service status "$u" --json | xoe_json 'd["service"]["pid"]')
[[ $(tr '\0' ' ' <"/proc/$pid/environ") == *"PYTHONPATH=$code/site"* ]] || bed_fail "the server does not run the service's code"
custom() { xoe_sql "$(X service show "$u" --json)" "select count(*) from ir_action where name = 'Users (customised)'"; }
bed_assert_eq 1 "$(custom)" "the series' data in the database (the modules were updated with the service's code)"
ok "create --patches: own code (hard links, the changed file its own), the server runs it ($((SECONDS - T0)) s)"

# ---------------------------------------------------------------- a failed update is rolled back
# rolled_back WHEN: the service runs its old code and database, the record there.
rolled_back() {
  bed_assert_eq run "$(X service status "$u" --json | xoe_json 'd["service"]["state"]')" "state after $1"
  bed_assert_eq 1 "$(xoe_login "$port" "$u" admin "$pw")" "login after $1"
  bed_assert_eq 1 "$(xoe_sql "$show" "select count(*) from res_group where id = $gid")" "the record after $1"
  grep -q "customised by the integrator" "$code/tree/res/user.xml" || bed_fail "the old code is gone after $1"
  cmp -s "$work/good/series" "$code/series/series" || bed_fail "the old series is gone after $1"
  [[ ! -e $XROOT/var/lib/oe/xoe/work/$u.update ]] || bed_fail "work folder left after $1: $(ls "$XROOT/var/lib/oe/xoe/work")"
}
show=$(X service show "$u" --json)
gid=$(xoe_rpc "$port" "$u" admin "$pw" model.res.group.create '[[{"name": "before-update"}]]' | xoe_json 'd[0]')
rc=0
err=$(X service update "$u" --patches "$work/bad" 2>&1 >/dev/null) || rc=$?
bed_assert_eq 5 "$rc" "exit code of the failing update"
# The job's log says what it undid; the error is the last line.
bed_assert_contains "$(tail -n 1 <<<"$err")" "update of $u failed and was rolled back: " "message of the failing update"
rolled_back "the rollback"
grep -q "xoe_broken" "$code/tree/res/user.xml" && bed_fail "the broken code stayed"
[[ $(X backup list "$u" --json | xoe_json 'len(d["backups"])') -ge 1 ]] || bed_fail "no backup taken before the update"
ok "an update that fails is rolled back: old code, old database, running ($((SECONDS - T0)) s)"

# A series whose module update passes and whose server does not start: the
# failure comes after the switch, which is undone (the old code and
# database back, started).
cp -a "$work/good.tree" "$work/noserve.tree"
sed -i 's/^def get_parser_daemon():$/&\n    raise SystemExit("broken on purpose by the test")/' "$work/noserve.tree/commandline.py"
grep -q "broken on purpose" "$work/noserve.tree/commandline.py" || bed_fail "the customisation of commandline.py"
series noserve
live=$XROOT/var/lib/oe/xoe/services/$u/data/$(xoe_json 'd["service"]["database"]' <<<"$show").sqlite
ino=$(stat -c %i "$live")
rc=0
err=$(X service update "$u" --patches "$work/noserve" 2>&1 >/dev/null) || rc=$?
bed_assert_eq 5 "$rc" "exit code of an update whose server does not start"
bed_assert_contains "$(tail -n 1 <<<"$err")" "update of $u failed and was rolled back: service $u keeps dying on start" "message of the update whose server does not start"
rolled_back "the rollback of the switch"
bed_assert_eq "$ino" "$(stat -c %i "$live")" "the old database file is back, not the migrated copy"
grep -q "broken on purpose" "$code/tree/commandline.py" && bed_fail "the code that does not start stayed"
bed_assert_eq 6.0 "$(X service show "$u" --json | xoe_json 'd["service"]["version"]')" "version after the rollback of the switch"
ok "an update whose server does not start is rolled back after the switch: old code, old database, running ($((SECONDS - T0)) s)"

# ---------------------------------------------------------------- a killed update is resumed
rc=0
OE_CRASH_AT=service.update:migrate X service update "$u" >/dev/null 2>&1 || rc=$?
[[ $rc -ge 128 ]] || bed_fail "the crash hook did not kill the update (exit $rc)"
out=$(X service update "$u" --json)
bed_assert_eq True "$(xoe_json 'd["update"]["resumed"]' <<<"$out")" "the next update resumes"
bed_assert_eq run "$(X service status "$u" --json | xoe_json 'd["service"]["state"]')" "state after the resumed update"
bed_assert_eq 1 "$(xoe_login "$port" "$u" admin "$pw")" "login after the resumed update"
bed_assert_eq 1 "$(xoe_sql "$show" "select count(*) from res_group where id = $gid")" "the record after the update"
[[ ! -e $XROOT/var/lib/oe/xoe/work/$u.update ]] || bed_fail "work folder left after the resumed update"
bed_assert_eq 1 "$(custom)" "the series' data after the update"
ok "an update killed while migrating is finished by the next run ($((SECONDS - T0)) s)"

# A fresh database (db drop, db create) of a service with a series gets the series' data too.
X db drop "$u" --no-backup >/dev/null
X db create "$u" >/dev/null
bed_assert_eq 1 "$(custom)" "the series' data after db create"
bed_assert_eq 1 "$(xoe_login "$port" "$u" admin "$pw")" "login after db create"
ok "db drop + db create of a service with a series: its modules updated with its code"

# ---------------------------------------------------------------- backups keep the series
# An archive holds the code's series: a restore of the backup an update
# with another series took brings the old code back with its database, and
# a service removed with --archive comes back customised.
cp -a "$work/good.tree" "$work/other.tree"
sed -i '0,/<data>/s//<data>\n        <!-- customised again -->/' "$work/other.tree/res/user.xml"
# A backup resumed after the series changed (its stage was made before) is
# refused rather than kept without the service's series: read back from the
# archive, checked against the service's, the job undone; the next one has it.
rc=0; OE_CRASH_AT=service.backup:archive X backup "$u" >/dev/null 2>&1 || rc=$?
[[ $rc -ge 128 ]] || bed_fail "the crash hook did not kill the backup (exit $rc)"
cp "$code/series/series" "$work/series.kept"
echo "# changed while a backup was unfinished" >>"$code/series/series"
before=$(X backup list "$u" --json | xoe_json 'len(d["backups"])')
xoe_expect 1 "the archive does not hold the service's series as it is now (series/series differs)" backup "$u"
bed_assert_eq "$before" "$(X backup list "$u" --json | xoe_json 'len(d["backups"])')" "archives after the refused backup"
cp "$work/series.kept" "$code/series/series"
a=$(X backup "$u" --json | xoe_json 'd["backup"]["archive"]')
members=$(tar --zstd -tf "$a")
grep -qx series/series <<<"$members" || bed_fail "the next backup lacks the series: $members"
ok "a backup whose archive would lack the service's series as it is is refused (1), the next one has it"

series other
arch=$(X service update "$u" --patches "$work/other" --json | xoe_json 'd["update"]["backup"]')
# The listing first, then the search: `tar -tf | grep -q` fails under
# pipefail whenever grep's early exit kills tar with SIGPIPE before it wrote
# the members after series/series (this check's failure once in two runs).
members=$(tar --zstd -tf "$arch")
grep -qx series/series <<<"$members" || bed_fail "the archive lacks the series: $members"
grep -q "customised again" "$code/tree/res/user.xml" || bed_fail "the update did not bring the other series"
out=$(X restore "$u" "$arch" --json)
bed_assert_eq True "$(xoe_json 'd["restore"]["code_restored"]' <<<"$out")" "code_restored of a restore across series"
grep -q "customised again" "$code/tree/res/user.xml" && bed_fail "the restore kept the newer code"
grep -q "customised by the integrator" "$code/tree/res/user.xml" || bed_fail "the restore lost the archived customisation"
cmp -s "$work/good/series" "$code/series/series" || bed_fail "the archived series is not the service's after the restore"
bed_assert_eq "$(stat -c %i "$std6/res/user.py")" "$(stat -c %i "$code/tree/res/user.py")" "the restored code's unchanged file is a hard link"
bed_assert_eq 1 "$(xoe_login "$port" "$u" admin "$pw")" "login after the restore across series"
bed_assert_eq 1 "$(custom)" "the series' data after the restore"
[[ ! -e $XROOT/var/lib/oe/xoe/work/$u ]] || bed_fail "work folder left after the restore: $(ls "$XROOT/var/lib/oe/xoe/work")"
out=$(X restore "$u" "$arch" --json)
bed_assert_eq False "$(xoe_json 'd["restore"]["code_restored"]' <<<"$out")" "code_restored when the series is the same"
mkdir "$work/final"
final=$(X service remove "$u" --archive "$work/final" --json | xoe_json 'd["removed"]["archive"]')
[[ ! -e $code ]] || bed_fail "the removed service's code is left"
out=$(X restore "$u" "$final" --json)
pw=$(xoe_json 'd["restore"]["admin_password"]' <<<"$out")
port=$(X service show "$u" --json | xoe_json 'd["service"]["port"]')
grep -q "customised by the integrator" "$code/tree/res/user.xml" || bed_fail "the service restored from its final archive lost its customisation"
cmp -s "$work/good/series" "$code/series/series" || bed_fail "the series of the service restored from its final archive"
bed_assert_eq 1 "$(xoe_login "$port" "$u" admin "$pw")" "login into the service restored from its final archive"
bed_assert_eq 1 "$(custom)" "the series' data in the service restored from its final archive"
ok "backups keep the code's series: restored across an update, and from a final archive ($((SECONDS - T0)) s)"

# ---------------------------------------------------------------- upgrades 6.0 -> 7.0
# Customisations chosen from the real differences between 6.0 and 7.0 (tests/poe/customise.py).
expect=$(/usr/bin/python3 "$OE_SOURCE_DIR/tests/poe/customise.py" "$std6" "$std7" "$work/all.tree")
# one NAME STATUS: a tree with only the module of the patch of that status.
one() {
  local patch folder
  patch=$(xoe_json "d['$2']" <<<"$expect")
  folder=${patch%.patch}
  [[ $folder == modules-* ]] && folder=modules/${folder#modules-}
  cp -a "$std6" "$work/$1.tree"
  rm -rf "${work:?}/$1.tree/$folder"
  cp -a "$work/all.tree/$folder" "$work/$1.tree/$folder"
  series "$1"
  echo "$patch"
}
mpatch=$(one merges merges)
cpatch=$(one conflicts conflict)

m=m6-$XID
mpw=$(X service create "$m" --software tryton --version 6.0 --db-backend postgresql --patches "$work/merges" --json |
  xoe_json 'd["service"]["admin_password"]')
mshow=$(X service show "$m" --json)
mport=$(xoe_json 'd["service"]["port"]' <<<"$mshow")
mgid=$(xoe_rpc "$mport" "$m" admin "$mpw" model.res.group.create '[[{"name": "before-upgrade"}]]' | xoe_json 'd[0]')
check=$(X service upgrade "$m" --to-version 7.0 --check --json)
bed_assert_eq "$mpatch:merges" "$(xoe_json '" ".join(p["name"] + ":" + p["status"] for p in d["check"]["patches"])' <<<"$check")" "poe's verdict"
t0=$SECONDS
out=$(X service upgrade "$m" --to-version 7.0 --json)
bed_assert_eq "6.0 7.0" "$(xoe_json 'd["update"]["from"] + " " + d["update"]["to"]' <<<"$out")" "upgrade from and to"
bed_assert_eq 7.0 "$(X service show "$m" --json | xoe_json 'd["service"]["version"]')" "version after the upgrade"
bed_assert_eq 1 "$(xoe_login "$mport" "$m" admin "$mpw")" "login after the upgrade"
bed_assert_eq 1 "$(xoe_sql "$mshow" "select count(*) from res_group where id = $mgid")" "the record after the upgrade"
vdb=$(xoe_sql "$mshow" "select count(*) from ir_module where name = 'ir' and state = 'activated'")
bed_assert_eq 1 "$vdb" "ir activated in the migrated database"
served=$(xoe_server_version "$mport")
[[ $served == 7.0.* ]] || bed_fail "the server answers version $served after the upgrade"
mcode=$XROOT/var/lib/oe/xoe/services/$m/code
bed_assert_eq "tryton/7.0" "$(sed -n 's/.*"base": *"\(tryton\/7\.0\)\..*/\1/p' "$mcode/series/poe.json" | head -1)" "the series is now on 7.0"
diff -r -q -x __pycache__ "$std7" "$mcode/tree" >"$work/upgraded.diff" || true
bed_assert_eq "Files $std7/$(xoe_json 'd["check"]["patches"][0]["files"][0]' <<<"$check") and $mcode/tree/$(xoe_json 'd["check"]["patches"][0]["files"][0]' <<<"$check") differ" \
  "$(cat "$work/upgraded.diff")" "the upgraded code: 7.0 plus the customisation"
psql -X -A -t -d postgres -c "select datname from pg_database where datname like 'xoe-mig-%' or datname like 'xoe-prev-%'" | grep -q . &&
  bed_fail "databases left: $(psql -X -A -t -d postgres -c "select datname from pg_database where datname like 'xoe-mig-%' or datname like 'xoe-prev-%'")"
ok "upgrade 6.0 -> 7.0 with a customisation that merges: 7.0 served, the record there ($((SECONDS - t0)) s)"

c=c6-$XID
X service create "$c" --software tryton --version 6.0 --db-backend sqlite --patches "$work/conflicts" >/dev/null
cpid=$(X service status "$c" --json | xoe_json 'd["service"]["pid"]')
before=$(find "$XROOT/var/lib/oe/xoe/services/$c/code" -printf '%p %i\n' | sort | md5sum)
rc=0
report=$(X service upgrade "$c" --to-version 7.0 2>"$work/err") || rc=$?
bed_assert_eq 4 "$rc" "exit code of a refused upgrade"
bed_assert_contains "$report" "$cpatch" "poe's report names the patch"
bed_assert_contains "$report" "conflict" "poe's report says conflict"
bed_assert_contains "$(cat "$work/err")" "refused" "the one-line error"
bed_assert_eq 6.0 "$(X service show "$c" --json | xoe_json 'd["service"]["version"]')" "version after the refusal"
bed_assert_eq "$cpid" "$(X service status "$c" --json | xoe_json 'd["service"]["pid"]')" "the server was not touched"
bed_assert_eq "$before" "$(find "$XROOT/var/lib/oe/xoe/services/$c/code" -printf '%p %i\n' | sort | md5sum)" "code after the refusal"
ok "upgrade with a customisation that conflicts: refused with poe's report, service untouched"

# ---------------------------------------------------------------- an upgrade whose migration fails
# The database holds an object in the way of a table 7.0 adds (a view named
# ir_error, as an admin's report might be): 7.0's trytond-admin fails on the
# migration copy, and the service is back on 6.0 as it was.
f=f6-$XID
fpw=$(X service create "$f" --software tryton --version 6.0 --db-backend sqlite --json | xoe_json 'd["service"]["admin_password"]')
fshow=$(X service show "$f" --json)
fport=$(xoe_json 'd["service"]["port"]' <<<"$fshow")
fgid=$(xoe_rpc "$fport" "$f" admin "$fpw" model.res.group.create '[[{"name": "before-upgrade"}]]' | xoe_json 'd[0]')
xoe_sql "$fshow" "create view ir_error as select 1 as id"
fcode=$XROOT/var/lib/oe/xoe/services/$f/code
before=$(find "$fcode" -printf '%p %i\n' | sort | md5sum)
flive=$XROOT/var/lib/oe/xoe/services/$f/data/$(xoe_json 'd["service"]["database"]' <<<"$fshow").sqlite
fino=$(stat -c %i "$flive")
t0=$SECONDS
rc=0
err=$(X service upgrade "$f" --to-version 7.0 2>&1 >/dev/null) || rc=$?
bed_assert_eq 5 "$rc" "exit code of an upgrade whose migration fails"
bed_assert_contains "$(tail -n 1 <<<"$err")" "update of $f failed and was rolled back: " "message of the failed upgrade"
bed_assert_contains "$(tail -n 1 <<<"$err")" "ir_error" "the message names the migration's error"
bed_assert_eq "6.0 run" "$(X service show "$f" --json | xoe_json 'd["service"]["version"]') $(X service status "$f" --json | xoe_json 'd["service"]["state"]')" "version and state after the failed upgrade"
served=$(xoe_server_version "$fport")
[[ $served == 6.0.* ]] || bed_fail "the server answers version $served after the failed upgrade"
bed_assert_eq 1 "$(xoe_login "$fport" "$f" admin "$fpw")" "login after the failed upgrade"
bed_assert_eq "1 $fino" "$(xoe_sql "$fshow" "select count(*) from res_group where id = $fgid") $(stat -c %i "$flive")" "the record, in the same database file"
bed_assert_eq "$before" "$(find "$fcode" -printf '%p %i\n' | sort | md5sum)" "the 6.0 code, file for file"
[[ ! -e $XROOT/var/lib/oe/xoe/work/$f.update ]] || bed_fail "work folder left after the failed upgrade"
ok "an upgrade whose migration fails is rolled back: 6.0 served, the same database file, the record there ($((SECONDS - t0)) s)"

# ---------------------------------------------------------------- bad input
xoe_expect 3 "no service nosuch" service update nosuch
xoe_expect 2 "older than 6.0" service upgrade "$c" --to-version 5.0
xoe_expect 2 "already" service upgrade "$c" --to-version 6.0
xoe_expect 3 "no recipe for tryton/9.9" service upgrade "$c" --to-version 9.9
xoe_expect 2 "is not a folder" service update "$c" --patches "$work/nosuch"
ok "bad input: exit codes"

for s in "$u" "$m" "$c" "$f"; do X service remove "$s" >/dev/null; done
X supervisor stop >/dev/null
ok "all in $((SECONDS - T0)) s"
