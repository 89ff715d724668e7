# SPDX-License-Identifier: GPL-3.0-or-later
# Root never runs a customer's code (issue 13; DESIGN.md rule 9), the
# students.hash variant: a recipe's hash command runs with the service's site
# on PYTHONPATH, so whatever it imports from there is the customer's code (a
# poe series changes it). xoe runs it to hash the admin password of a new
# service and the students' passwords of a dissemination. The recipe here
# hashes through trytond, as a recipe that used Tryton's own CRYPT_CONTEXT
# would, and the customer's series adds to trytond a line that records the
# uid of every process that imports it. Each hash run must be the service's
# own user, never root: before the fix (merge a0a3999) the students' hashes
# were made as root and this test failed at the dissemination.
source "${OE_SOURCE_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}/tests/bed/bed.sh"
bed_init
source "$OE_SOURCE_DIR/tests/xoe/lib.sh"
xoe_setup
P() { poe --root "$XROOT" "$@"; }

# A recipes folder whose 6.0 hash command imports the service's trytond first.
recipes=$BED_DIR/recipes-hash-imports-trytond
cp -r "$OE_SOURCE_DIR/etc/oe/recipes" "$recipes"
sed -i 's/^hash = \["{python}", "-S", "-c", "import sys\\n/&import trytond\\n/' "$recipes/tryton-6.0.toml"
grep -q '^hash = .*import sys\\nimport trytond\\n' "$recipes/tryton-6.0.toml" ||
  bed_fail "the hash command of tryton-6.0.toml was not changed"
export OE_XOE_SOFTWARE_RECIPES=$recipes

X software fetch tryton/6.0 >/dev/null
std6=$XROOT/var/lib/oe/xoe/software/tryton/6.0/root/usr/lib/python3/dist-packages/trytond
v6=$(sed -n 's/^__version__ = "\(.*\)"/\1/p' "$std6/__init__.py")
work=$BED_DIR/work
uids=$BED_DIR/uids
mkdir -p "$work" "$uids"
chmod 1777 "$uids"
cp -a "$std6" "$work/spy.tree"
# The customer's code: every process that imports its trytond writes its uid
# and command line (the hash command's is `-c`).
cat >>"$work/spy.tree/__init__.py" <<PY

import os as _spy_os, sys as _spy_sys
with open("$uids/%d" % _spy_os.getpid(), "w") as _spy_file:
    _spy_file.write("%d %s\n" % (_spy_os.getuid(), " ".join(_spy_sys.argv)))
PY
P diff --standard "tryton/$v6" "$work/spy.tree" --output "$work/spy" >/dev/null

# A production with the series, and the training service that serves its students' copies.
svc=h$XID-production tr=h$XID-training
# check WHAT USER: every hash run (argv `-c`) that imported the series ran as USER's uid, and one at least did.
check() {
  local uid runs others
  uid=$(id -u "$2")
  [[ $uid != 0 ]] || bed_fail "the service's user is root"
  runs=$(cat "$uids"/* 2>/dev/null | grep -E '^[0-9]+ -c$' || true)
  [[ -n $runs ]] || bed_fail "no hash command imported the series during $1"
  others=$(grep -v "^$uid " <<<"$runs" || true)
  [[ -z $others ]] || bed_fail "the hash command ran the customer's code as another user than $uid during $1: $others"
  ok "$1: $(wc -l <<<"$runs") hash runs imported the series, all as uid $uid ($2)"
}

pw=$(X service create "$svc" --software tryton --version 6.0 --db-backend sqlite --role production --patches "$work/spy" --json |
  xoe_json 'd["service"]["admin_password"]')
user=$(X service show "$svc" --json | xoe_json 'd["service"]["user"]')
check "service create (the admin password's hash)" "$user"
port=$(X service show "$svc" --json | xoe_json 'd["service"]["port"]')
bed_assert_eq 1 "$(xoe_login "$port" "$svc" admin "$pw")" "login with the password whose hash the customer's code made"

# The training service serves the students' copies, with production's code.
X service create "$tr" --software tryton --version 6.0 --db-backend sqlite --role training --patches "$work/spy" >/dev/null
lport=$(X service show "$tr" --json | xoe_json 'd["service"]["port"]')
rm -f "$uids"/*
r=$(X students disseminate "$svc" --group g1 --students 2 --json)
# The students' hashes are made for the server of their copies: the training's user.
check "students disseminate (the students' hashes)" "$(X service show "$tr" --json | xoe_json 'd["service"]["user"]')"
s=$(xoe_json 'd["students"]["students"][0]["login"]' <<<"$r")
spw=$(xoe_json 'd["students"]["students"][0]["password"]' <<<"$r")
uid=$(xoe_login "$lport" "$svc-g1-$s" "$s" "$spw")
((uid > 1)) || bed_fail "$s logged in as user $uid"
ok "$s logs into its copy with the password whose hash the customer's code made"
X students remove --group g1 >/dev/null
ok "hash commands run the customer's code as the service's user only"
