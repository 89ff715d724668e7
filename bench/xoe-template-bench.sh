#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# A new Tryton 7.0 service with `sale` (and its dependencies) answering a
# login, from xoe's template database, against the plain trytond-admin
# initialisation an admin does without templates. Goal: at least 10 times
# faster. Side by side in one run, on the bed's private PostgreSQL:
#   template  built once by a throwaway `xoe service create --modules sale`
#             (timed and printed, then the service is removed);
#   A  xoe service create NAME --software tryton --version 7.0 --modules sale
#      (returns once the server answers its probe), then common.db.login
#      with the printed password;
#   B  createdb, trytond-admin --all (the admin password from
#      TRYTONPASSFILE, which --all sets on a new database), trytond-admin
#      -u sale --activate-dependencies, a bare trytond started, then the same
#      login; same code, site folder, Python and environment as the recipe.
# The 7.0 recipe fetches the server and base modules only: this bench uses a
# copy of it in a private recipe folder whose [source] packages add sale's
# dependency closure (from the .deb Depends fields: product, stock, account,
# account_product, account_invoice, account_invoice_stock, sale, and
# python3-simpleeval, which account and stock import). Needs root and a
# build (build*/bin/xoe) or xoe on PATH. Prints B/A.
source "$(dirname "${BASH_SOURCE[0]}")/xoe-bench-lib.sh"
xb_setup

# sale's closure over the recipe's packages, Debian 13 (trixie) names.
extra=(tryton-modules-product tryton-modules-stock tryton-modules-account tryton-modules-account-product
       tryton-modules-account-invoice tryton-modules-account-invoice-stock tryton-modules-sale python3-simpleeval)
recipes=$BED_DIR/recipes
mkdir -p "$recipes"
"$XB_PY" - "$OE_SOURCE_DIR/etc/oe/recipes/tryton-7.0.toml" "$recipes/tryton-7.0.toml" "${extra[@]}" <<'PY'
import re, sys
src, dst, extra = sys.argv[1], sys.argv[2], sys.argv[3:]
text = open(src).read()
pat = re.compile(r'^(packages = \["tryton-server"[^\]\n]*)\]', re.M)
if len(pat.findall(text)) != 1:
    sys.exit(f"{src}: no single [source] packages line starting with tryton-server")
text = pat.sub(lambda m: m.group(1) + "".join(f', "{p}"' for p in extra) + "]", text)
open(dst, "w").write(text)
PY
xb_fetch "$recipes"
tag=$XID

# The template, once (a throwaway service builds it).
t=$(xb_now)
X service create "tpl-$tag" --software tryton --version 7.0 --db-backend postgresql --modules sale >/dev/null
tpl_build=$(xb_sub "$t")
X service remove "tpl-$tag" >/dev/null
echo "bench: template (sale) built by a first service create in $tpl_build s" >&2

# A: xoe from the template.
a=bench-a-$tag
t=$(xb_now)
out=$(X service create "$a" --software tryton --version 7.0 --db-backend postgresql --modules sale --json)
port=$(X service show "$a" --json | xoe_json 'd["service"]["port"]')
xoe_json 'd["service"]["admin_password"]' <<<"$out" | sed "s/^/$port $a /" | xb_wait_logins 60
side_a=$(xb_sub "$t")
echo "bench: A (xoe service create --modules sale + login) $side_a s" >&2
echo "bench: A's create steps (s): $(xb_steps "$a")" >&2

# B: by hand, without a template.
b=bench_b_$tag
bdir=$BED_DIR/side-b
mkdir -p "$bdir"
bport=$(bed_free_port)
t=$(xb_now)
createdb -E UTF8 -T template0 "$b"
xb_conf "$bdir/trytond.conf" "$bport" "$bdir/data"
xb_passfile "$bdir/password"
xb_admin "$bdir/trytond.conf" "$b" "$bdir/password" --all --email ""
t_init=$(xb_sub "$t")
xb_admin "$bdir/trytond.conf" "$b" "$bdir/password" -u sale --activate-dependencies
t_sale=$(xb_sub "$t")
xb_start_trytond "$bdir/trytond.conf" "$bdir/trytond.log"
sed "s/^/$bport $b /" "$bdir/password" | xb_wait_logins 120
side_b=$(xb_sub "$t")
echo "bench: B (createdb + --all [$t_init s] + -u sale [$t_sale s cumulated] + trytond + login) $side_b s" >&2

ratio=$(xb_div "$side_b" "$side_a")
printf 'template build (once)     %7.2f s\n' "$tpl_build"
printf 'A xoe service create      %7.2f s   (from the template, until a login answers)\n' "$side_a"
printf 'B trytond-admin by hand   %7.2f s   (createdb, --all, -u sale, trytond, login)\n' "$side_b"
printf 'ratio B/A                 %7.2f     goal >= 10: %s\n' "$ratio" \
  "$(awk -v r="$ratio" 'BEGIN { print (r >= 10 ? "goal met" : "goal NOT met") }')"
X service remove "$a" >/dev/null
