# SPDX-License-Identifier: GPL-3.0-or-later
# A recipe that gains packages after its version was fetched (issue 14,
# item 4): `software fetch` no longer says "fetched already" but refuses (4)
# naming the packages the fetched version lacks and the command that
# fetches it again; `service create --modules` of a module of those says
# the same way out; `software fetch --refresh` fetches the version again,
# and the module is then there. A service made before the refresh keeps
# running on its own copy of the code.
source "${OE_SOURCE_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}/tests/bed/bed.sh"
bed_init
source "$OE_SOURCE_DIR/tests/xoe/lib.sh"
xoe_setup

recipes=$BED_DIR/recipes
mkdir -p "$recipes"
cp "$OE_SOURCE_DIR"/etc/oe/recipes/*.toml "$recipes/"
export OE_XOE_SOFTWARE_RECIPES=$recipes
X software fetch tryton/6.0 >/dev/null
bed_assert_eq True "$(X software fetch tryton/6.0 --json | xoe_json 'd["software"]["already"]')" "a second fetch, the recipe unchanged"
s=r$XID
pw=$(xoe_create "$s" 6.0 sqlite production)
port=$(X service show "$s" --json | xoe_json 'd["service"]["port"]')
ok "tryton/6.0 fetched with its recipe as shipped, service $s on it"

sed -i 's/^packages = \["tryton-server",/packages = ["tryton-server", "tryton-modules-product",/' "$recipes/tryton-6.0.toml"
grep -q tryton-modules-product "$recipes/tryton-6.0.toml" || bed_fail "the test recipe was not changed"
xoe_expect 4 "tryton/6.0 was fetched before its recipe $recipes/tryton-6.0.toml asked for tryton-modules-product: the version as fetched lacks them; xoe software fetch tryton/6.0 --refresh fetches it again" \
  software fetch tryton/6.0
xoe_expect 3 "module 'product' is not in tryton/6.0 as fetched" service create "p$XID" --software tryton --version 6.0 \
  --db-backend sqlite --modules product
err=$(X service create "p$XID" --software tryton --version 6.0 --db-backend sqlite --modules product 2>&1 >/dev/null || true)
bed_assert_contains "$err" "xoe software fetch tryton/6.0 --refresh" "create's message names the way out"
ok "a recipe that gained a package: fetch refuses (4) naming it and --refresh; create --modules of it says so (3)"

out=$(X software fetch tryton/6.0 --refresh --json)
bed_assert_eq "False True" "$(xoe_json 'str(d["software"]["already"]) + " " + str(d["software"]["refreshed"])' <<<"$out")" "already, refreshed"
bed_assert_eq True "$(X software fetch tryton/6.0 --json | xoe_json 'd["software"]["already"]')" "a fetch after the refresh"
[[ -z $(ls -A "$XROOT/var/lib/oe/xoe/software/tryton" | grep '^\.') ]] ||
  bed_fail "work folders left after the refresh: $(ls -A "$XROOT/var/lib/oe/xoe/software/tryton")"
bed_assert_eq 1 "$(xoe_login "$port" "$s" admin "$pw")" "the earlier service after the refresh"
X service restart "$s" >/dev/null
bed_assert_eq 1 "$(xoe_login "$port" "$s" admin "$pw")" "the earlier service restarted after the refresh"
ppw=$(X service create "p$XID" --software tryton --version 6.0 --db-backend sqlite --modules product --json |
  xoe_json 'd["service"]["admin_password"]')
pport=$(X service show "p$XID" --json | xoe_json 'd["service"]["port"]')
bed_assert_eq 1 "$(xoe_login "$pport" "p$XID" admin "$ppw")" "login into the service with product"
bed_assert_contains "$(xoe_rpc "$pport" "p$XID" admin "$ppw" model.ir.module.search_read \
  '[[["name", "=", "product"]], 0, null, null, ["state"]]')" "activated" "product activated"
ok "software fetch --refresh: the version fetched again, product there, the earlier service runs on"

for x in "$s" "p$XID"; do X service remove "$x" >/dev/null; done
