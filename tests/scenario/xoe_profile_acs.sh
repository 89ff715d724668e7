# SPDX-License-Identifier: GPL-3.0-or-later
# xoe profile apply acs: a school's nine services, production, training and
# test of each of Tryton 5.0, 6.0 and 7.0 (the default versions), on SQLite,
# each answering a login with its own password and each serving its own
# version; refused as a whole when one version is not fetched.
source "${OE_SOURCE_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}/tests/bed/bed.sh"
bed_init
source "$OE_SOURCE_DIR/tests/xoe/lib.sh"
xoe_setup

name=School${XID^^}
n=school${XID}
X software fetch tryton/6.0 >/dev/null
X software fetch tryton/7.0 >/dev/null
# 5.0 is not fetched yet: nothing is created.
rc=0; err=$(X profile apply acs --name "$name" --db-backend sqlite 2>&1 >/dev/null) || rc=$?
bed_assert_eq 6 "$rc" "acs with a version not fetched"
bed_assert_contains "$err" "tryton/5.0 is not fetched" "message"
bed_assert_eq 0 "$(X service list --json | xoe_json 'len(d["services"])')" "nothing created"
rc=0; X profile apply acs --name "$name" --versions 6.0,7.0 >/dev/null 2>&1 || rc=$?
bed_assert_eq 2 "$rc" "acs with two versions"
rc=0; X profile apply acs --name "$name" --version 7.0 >/dev/null 2>&1 || rc=$?
bed_assert_eq 2 "$rc" "acs with --version"
ok "refused as a whole: a version not fetched (6), two versions or --version (2)"

X software fetch tryton/5.0 >/dev/null
t0=$SECONDS
out=$(X profile apply acs --name "$name" --db-backend sqlite --json)
secs=$((SECONDS - t0))
expected=""
for v in 5-0 6-0 7-0; do
  for r in production training test; do expected+="$n-$v-$r $r,"; done
done
bed_assert_eq "${expected%,}" "$(xoe_json '",".join(s["name"]+" "+s["role"] for s in d["profile"]["services"])' <<<"$out")" "the nine services"
for i in $(seq 0 8); do
  s=$(xoe_json "d['profile']['services'][$i]['name']" <<<"$out")
  pw=$(xoe_json "d['profile']['services'][$i]['admin_password']" <<<"$out")
  show=$(X service show "$s" --json)
  port=$(xoe_json 'd["service"]["port"]' <<<"$show")
  bed_assert_eq 1 "$(xoe_login "$port" "$s" admin "$pw")" "login to $s"
  want=$(xoe_json 'd["service"]["version"]' <<<"$show")
  served=$(xoe_server_version "$port")
  [[ $served == "$want".* ]] || bed_fail "$s serves $served, not $want"
done
ok "profile acs for $name: nine services (5.0, 6.0, 7.0 x production, training, test) answering a login, in $secs s"

again=$(X profile apply acs --name "$name" --db-backend sqlite --json)
bed_assert_eq 9 "$(xoe_json 'sum(1 for s in d["profile"]["services"] if s["existed"])' <<<"$again")" "applied again: all kept"
ok "applied again: kept"
for i in $(seq 0 8); do X service remove "$(xoe_json "d['profile']['services'][$i]['name']" <<<"$out")" >/dev/null; done
X supervisor stop >/dev/null
