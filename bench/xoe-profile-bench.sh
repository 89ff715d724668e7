#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# `xoe profile apply vds` until its three services answer a login, against
# the same raw steps done by hand. Goal: within 1.2 times. Side by side in
# one run, Tryton 7.0 (base modules) on the bed's private PostgreSQL, the
# template database built first by a throwaway service (timed, printed), so
# both sides copy it:
#   A  xoe profile apply vds --name NAME --software tryton --version 7.0,
#      then common.db.login on the three with the printed passwords;
#   B  three times: CREATE DATABASE ... TEMPLATE tpl, a trytond.conf, the
#      admin password set by trytond-admin -p (TRYTONPASSFILE), a bare
#      trytond started in the background (root); then wait until the three
#      answer the same login.
# xoe also makes a system user, folders and a runit service per member, and
# waits for each server to answer before it creates the next one; B starts
# the three servers without waiting. Prints A/B. Needs root and a build or
# xoe on PATH.
source "$(dirname "${BASH_SOURCE[0]}")/xoe-bench-lib.sh"
xb_setup
xb_fetch
tag=$XID

t=$(xb_now)
X service create "tpl-$tag" --software tryton --version 7.0 --db-backend postgresql >/dev/null
tpl_build=$(xb_sub "$t")
tpl=$(X service create "x-$tag" --software tryton --version 7.0 --db-backend postgresql --dry-run --json \
  | xoe_json 'd["plan"]["template"]')
X service remove "tpl-$tag" >/dev/null
echo "bench: template $tpl built by a first service create in $tpl_build s" >&2

# A: the profile.
t=$(xb_now)
out=$(X profile apply vds --name "bench$tag" --software tryton --version 7.0 --db-backend postgresql --json)
t_apply=$(xb_sub "$t")
lines=""
for i in 0 1 2; do
  s=$(xoe_json "d['services'][$i]['name']" <<<"$out")
  port=$(X service show "$s" --json | xoe_json 'd["service"]["port"]')
  lines+="$port $s $(xoe_json "d['services'][$i]['admin_password']" <<<"$out")"$'\n'
done
# (the show calls above are outside the timing: t_apply is when xoe returned)
t=$(xb_now)
xb_wait_logins 120 <<<"$lines"
side_a=$(awk -v a="$t_apply" -v b="$(xb_sub "$t")" 'BEGIN { printf "%.2f", a + b }')
echo "bench: A (profile apply $t_apply s + logins) $side_a s" >&2
echo "bench: A's create steps, summed over the three (s): $(xb_steps "bench$tag-production" "bench$tag-training" "bench$tag-test")" >&2

# B: the same by hand.
bdir=$BED_DIR/side-b
lines="" t_copy=0 t_pass=0
t=$(xb_now)
for role in production training test; do
  db=hand${tag}_$role d=$bdir/$role
  mkdir -p "$d"
  port=$(bed_free_port)
  t1=$(xb_now)
  psql -X -q -c "CREATE DATABASE \"$db\" TEMPLATE \"$tpl\""
  t_copy=$(awk -v a="$t_copy" -v b="$(xb_sub "$t1")" 'BEGIN { printf "%.2f", a + b }')
  xb_conf "$d/trytond.conf" "$port" "$d/data"
  xb_passfile "$d/password"
  t1=$(xb_now)
  xb_admin "$d/trytond.conf" "$db" "$d/password" -p
  t_pass=$(awk -v a="$t_pass" -v b="$(xb_sub "$t1")" 'BEGIN { printf "%.2f", a + b }')
  xb_start_trytond "$d/trytond.conf" "$d/trytond.log"
  lines+="$port $db $(cat "$d/password")"$'\n'
done
t1=$(xb_now)
xb_wait_logins 120 <<<"$lines"
t_wait=$(xb_sub "$t1")
side_b=$(xb_sub "$t")
echo "bench: B (3 x copy, conf, -p, trytond; then logins) $side_b s: copies $t_copy s, -p $t_pass s, waiting for the logins $t_wait s" >&2

ratio=$(xb_div "$side_a" "$side_b")
printf 'template build (once)          %7.2f s\n' "$tpl_build"
printf 'A xoe profile apply vds        %7.2f s   (until the three answer a login)\n' "$side_a"
printf 'B by hand                      %7.2f s   (3 x CREATE DATABASE TEMPLATE, conf, -p, trytond; logins)\n' "$side_b"
printf 'ratio A/B                      %7.2f     goal <= 1.2: %s\n' "$ratio" \
  "$(awk -v r="$ratio" 'BEGIN { print (r <= 1.2 ? "goal met" : "goal NOT met") }')"
for role in production training test; do X service remove "bench$tag-$role" >/dev/null; done
