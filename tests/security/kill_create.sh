# SPDX-License-Identifier: GPL-3.0-or-later
# Hole 8 of issue 13, a create killed outright: `kill -9` of `xoe service
# create` while its child trytond-admin builds the template database. Its
# children die with it (within 2 s; the old code left trytond-admin running
# as root for some 15 s), and the rollback (`xoe service remove`) leaves no
# template database, no `.partial` folder, no user, no role and no registry
# row (the old rollback kept the unrecorded template and its folder). A
# create of the same service then works from scratch.
source "${OE_SOURCE_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}/tests/bed/bed.sh"
bed_init
source "$OE_SOURCE_DIR/tests/xoe/lib.sh"
bed_postgres
xoe_setup

X software fetch tryton/6.0 >/dev/null
svc=kc-$XID
templates=$XROOT/var/lib/oe/xoe/templates
xoe --root "$XROOT" service create "$svc" --software tryton --version 6.0 --db-backend postgresql --role test >/dev/null 2>&1 &
creator=$!

# The creator's children running trytond-admin (the template's init).
admin_children() {
  ps -o pid=,args= --ppid "$creator" 2>/dev/null | awk '/trytond-admin/ {print $1}'
}
building() { [[ -n $(admin_children) ]]; }
bed_wait 180 "trytond-admin building the template" building
mapfile -t admins < <(admin_children)
tpl_dir=$(ls -d "$templates"/.xoe-tpl-*.partial 2>/dev/null | head -n 1)
[[ -n $tpl_dir ]] || bed_fail "no .partial folder while the template is built"
tpl=$(basename "$tpl_dir" .partial)
tpl=${tpl#.}
kill -9 "$creator"
wait "$creator" 2>/dev/null || true  # 137: killed
alive() {
  local pid state
  for pid in "${admins[@]}"; do
    state=$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null) || continue
    [[ $state == Z || $state == X ]] || { echo "$pid"; return 0; }
  done
  return 1
}
deadline=$((SECONDS + 2))
while alive >/dev/null && ((SECONDS < deadline)); do sleep 0.1; done
if left=$(alive); then
  bed_fail "trytond-admin (pid $left, uid $(stat -c %u "/proc/$left")) still runs 2 s after its create was killed"
fi
ok "kill -9 of the create: its trytond-admin died with it"

[[ -d $tpl_dir ]] || bed_fail "the killed build left no .partial folder (nothing to test)"
bed_assert_eq 1 "$(psql -X -A -t -c "select count(*) from pg_database where datname = '$tpl'")" "the half-built template database exists before the rollback"
rc=0
err=$(X service remove "$svc" 2>&1 >/dev/null) || rc=$?
bed_assert_eq 0 "$rc" "the rollback of the killed create ($err)"
bed_assert_eq 0 "$(psql -X -A -t -c "select count(*) from pg_database where datname like 'xoe-tpl-%'")" "template databases after the rollback"
bed_assert_eq "" "$(ls -A "$templates" 2>/dev/null | grep -v '^\.role-password$')" "the templates folder after the rollback"
getent passwd "xoe-$svc" >/dev/null && bed_fail "the user xoe-$svc is left"
bed_assert_eq 0 "$(psql -X -A -t -c "select count(*) from pg_roles where rolname = 'xoe-$svc'")" "the service's role after the rollback"
bed_assert_eq 0 "$(sqlite3 "$XROOT/var/lib/oe/xoe/xoe.db" "select (select count(*) from services) + (select count(*) from templates)")" "registry rows after the rollback"
bed_assert_eq "" "$(ps -eo args= | grep -F "$XROOT" | grep trytond-admin | grep -v grep)" "trytond-admin of this root after the rollback"
ok "the rollback leaves no template database, no .partial folder, no user, role or row"

pw=$(xoe_create "$svc" 6.0 postgresql test)
port=$(X service show "$svc" --json | xoe_json 'd["service"]["port"]')
bed_assert_eq 1 "$(xoe_login "$port" "$svc" admin "$pw")" "login into the service created after the rollback"
X service remove "$svc" >/dev/null
ok "a create after the rollback works from scratch"
