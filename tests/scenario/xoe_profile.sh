# SPDX-License-Identifier: GPL-3.0-or-later
# xoe profile apply vds: one customer's production, training and test
# services of Tryton 7.0 (on the bed's PostgreSQL), each answering a login
# with its own generated password; applied again, it keeps what exists.
source "${OE_SOURCE_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}/tests/bed/bed.sh"
bed_init
source "$OE_SOURCE_DIR/tests/xoe/lib.sh"
bed_postgres
xoe_setup

X software fetch tryton/7.0 >/dev/null
name=ACME${XID^^}
n=acme${XID}
rc=0; err=$(X profile apply nosuch --name "$name" --software tryton --version 7.0 2>&1 >/dev/null) || rc=$?
bed_assert_eq 2 "$rc" "unknown profile"
bed_assert_contains "$err" "profile 'nosuch'" "message"
rc=0; X profile apply vds --name "bad_name" --software tryton --version 7.0 >/dev/null 2>&1 || rc=$?
bed_assert_eq 2 "$rc" "bad name"
bed_assert_eq 0 "$(X service list --json | xoe_json 'len(d["services"])')" "nothing created by refused profiles"

t0=$SECONDS
out=$(X profile apply vds --software tryton --version 7.0 --name "$name" --json)
secs=$((SECONDS - t0))
bed_assert_eq "$n-production production,$n-training training,$n-test test" \
  "$(xoe_json '",".join(s["name"]+" "+s["role"] for s in d["profile"]["services"])' <<<"$out")" "profile services"
for i in 0 1 2; do
  s=$(xoe_json "d['profile']['services'][$i]['name']" <<<"$out")
  pw=$(xoe_json "d['profile']['services'][$i]['admin_password']" <<<"$out")
  port=$(X service show "$s" --json | xoe_json 'd["service"]["port"]')
  bed_assert_eq 1 "$(xoe_login "$port" "$s" admin "$pw")" "login to $s"
done
ok "profile vds for $name: three services answering a login, in $secs s"

again=$(X profile apply vds --software tryton --version 7.0 --name "$name" --json)
bed_assert_eq "True True True" "$(xoe_json '" ".join(str(s["existed"]) for s in d["profile"]["services"])' <<<"$again")" "applied again"
rc=0; X profile apply vds --software tryton --version 6.0 --name "$name" >/dev/null 2>&1 || rc=$?
bed_assert_eq 4 "$rc" "other version over an existing profile"
ok "applied again: kept; another version: conflict (4)"
X supervisor stop >/dev/null
