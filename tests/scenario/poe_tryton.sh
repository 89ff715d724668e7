# SPDX-License-Identifier: GPL-3.0-or-later
# poe on the real thing: Tryton 5.0, 6.0 and 7.0 from Debian's packages
# (tests/poe/fetch-tryton, cached outside the repository), a 6.0 customised as
# an integrator would (tests/poe/customise.py), then diff, git apply, quilt,
# apply, check (every status), adapt onto 7.0 with a conflict resolved by
# hand and --continue, and check and adapt down to 5.0.
set -euo pipefail
src=${OE_SOURCE_DIR:?}
work=$(mktemp -d /tmp/oe-poe-tryton.XXXXXX)
trap 'rm -rf "$work"' EXIT
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
ok() { echo "ok: $*"; }
py=/usr/bin/python3

fetch() {
  local tree
  if ! tree=$(bash "$src/tests/poe/fetch-tryton" "$1"); then
    if [ "$(id -u)" != 0 ]; then echo "skip: cannot fetch Tryton ($1) without root"; exit 77; fi
    echo "FAIL: fetch-tryton $1"; exit 1
  fi
  echo "$tree"
}
t5=$(fetch bullseye); t6=$(fetch bookworm); t7=$(fetch trixie)
v5=$(bash "$src/tests/poe/fetch-tryton" --version bullseye)
v6=$(bash "$src/tests/poe/fetch-tryton" --version bookworm)
v7=$(bash "$src/tests/poe/fetch-tryton" --version trixie)
echo "Tryton: 5.0 $v5, 6.0 $v6, 7.0 $v7"
root="$work/root"; mkdir -p "$root"
P() { poe --root "$root" "$@"; }

# Store.
P standard import tryton/5.0 "$t5" >/dev/null && P standard import tryton/6.0 "$t6" >/dev/null \
  && P standard import tryton/7.0 "$t7" >/dev/null && ok "standard import 5.0 6.0 7.0" || fail "standard import"
[ "$(P standard list --json | $py -c 'import json,sys; print(" ".join(s["ref"] for s in json.load(sys.stdin)["standards"]))')" \
  = "tryton/5.0 tryton/6.0 tryton/7.0" ] && ok "standard list" || fail "standard list"
P standard show tryton/6.0 --json | $py -c 'import json,sys; s=json.load(sys.stdin)["standard"]; assert s["files"] > 1000 and len(s["tree"]) == 40' \
  && ok "standard show" || fail "standard show"
rc=0; P standard import tryton/6.0 "$t6" 2>/dev/null || rc=$?; [ $rc = 4 ] && ok "import twice: exit 4" || fail "import twice: exit $rc"
P standard remove tryton/5.0 >/dev/null && P standard import tryton/5.0 "$t5" >/dev/null && ok "standard remove and import again" || fail "remove"
rc=0; P standard show tryton/9.9 2>/dev/null || rc=$?; [ $rc = 3 ] && ok "show unknown: exit 3" || fail "show unknown: exit $rc"

# The customised 6.0 and its series.
expect=$($py "$src/tests/poe/customise.py" "$t6" "$t7" "$work/custom")
echo "expected statuses onto 7.0: $expect"
P diff --standard tryton/6.0 "$work/custom" --output "$work/s6" >/dev/null && ok "diff" || fail "diff"
P series show "$work/s6" --json >/dev/null && ok "series show" || fail "series show"
$py - "$work/s6/poe.json" <<'PY' && ok "poe.json: full ids, binary, added and deleted files" || fail "poe.json"
import json, sys, re, os
d = json.load(open(sys.argv[1]))
assert d["base"] == "tryton/6.0" and len(d["base_tree"]) == 40
assert any(p["binary"] for p in d["patches"])
text = "".join(open(os.path.join(os.path.dirname(sys.argv[1]), p["name"])).read() for p in d["patches"])
assert re.search(r"^index [0-9a-f]{40}\.\.[0-9a-f]{40}", text, re.M)
assert "GIT binary patch" in text and "new file mode" in text and "deleted file mode" in text
PY
# git apply on a copy of the standard gives the customised tree.
cp -a "$t6" "$work/g6"
(cd "$work/g6" && while read -r p; do git apply "$work/s6/$p" || exit 1; done < "$work/s6/series") \
  && diff -r "$work/custom" "$work/g6" >/dev/null && ok "git apply of the series = the customised tree" || fail "git apply"
# quilt push -a of the series without binary patches.
cp -a "$t6" "$work/q6"; mkdir "$work/qp"
$py - "$work/s6" "$work/qp" <<'PY'
import json, sys, shutil
d = json.load(open(sys.argv[1] + "/poe.json"))
with open(sys.argv[2] + "/series", "w") as f:
    for p in d["patches"]:
        if not p["binary"]:
            shutil.copy(sys.argv[1] + "/" + p["name"], sys.argv[2]); f.write(p["name"] + "\n")
PY
(cd "$work/q6" && QUILT_PATCHES="$work/qp" quilt push -a -q >/dev/null) \
  && diff -r -x .pc -x poe_custom "$work/custom" "$work/q6" >/dev/null && ok "quilt push -a of the text patches" || fail "quilt push -a"

# apply: a new folder, and in place.
P apply "$work/s6" --output "$work/a6" >/dev/null && diff -r "$work/custom" "$work/a6" >/dev/null \
  && ok "apply --output" || fail "apply --output"
cp -a "$t6" "$work/i6"
P apply "$work/s6" --in-place "$work/i6" >/dev/null && diff -r "$work/custom" "$work/i6" >/dev/null \
  && ok "apply --in-place" || fail "apply --in-place"
cp -a "$t6" "$work/x6"; first=$(head -n1 "$work/s6/series")
file=$($py -c 'import json,sys; d=json.load(open(sys.argv[1])); print([f for p in d["patches"] if p["name"]==sys.argv[2] for f in p["files"]][0])' "$work/s6/poe.json" "$first")
echo "# changed" >> "$work/x6/$file"; before=$(cd "$work/x6" && find . -type f | sort | xargs md5sum | md5sum)
rc=0; P apply "$work/s6" --in-place "$work/x6" 2>/dev/null || rc=$?
after=$(cd "$work/x6" && find . -type f | sort | xargs md5sum | md5sum)
[ $rc = 2 ] && [ "$before" = "$after" ] && [ -z "$(ls -A "$work" | grep '\.poe-')" ] \
  && ok "apply --in-place onto a changed copy: exit 2, nothing changed" || fail "apply onto changed copy: exit $rc"

# check onto 7.0: each status from a real difference between the versions.
rc=0; P check "$work/s6" --onto tryton/7.0 --json > "$work/check7.json" || rc=$?
[ $rc = 1 ] && ok "check onto 7.0: exit 1 (a conflict)" || fail "check onto 7.0: exit $rc"
$py - "$work/check7.json" "$expect" <<'PY' && ok "check onto 7.0: every status as expected" || fail "check statuses"
import json, sys
report = json.load(open(sys.argv[1])); expect = json.loads(sys.argv[2])
got = {p["name"]: p for p in report["patches"]}
assert report["base"] == "tryton/6.0" and report["onto"] == "tryton/7.0"
bad = 0
for status, name in expect.items():
    want = "applies" if status == "new" else status
    if got[name]["status"] != want:
        print("  ", name, "is", got[name]["status"], "wanted", want); bad += 1
c = got[expect["conflict"]]
assert c["conflicts"] and all("file" in x and "-" in x["lines"] for x in c["conflicts"])
sys.exit(bad)
PY
P check "$work/s6" --onto tryton/7.0 --fuzz 2 >/dev/null || true
rc=0; P check "$work/s6" --onto tryton/6.0 >/dev/null || rc=$?
[ $rc = 0 ] && ok "check onto its own base: exit 0" || fail "check onto own base: exit $rc"

# adapt onto 7.0: the conflict and the removed file go to the work folder.
rc=0; P adapt "$work/s6" --onto tryton/7.0 --output "$work/s7" --json > "$work/adapt7.json" || rc=$?
[ $rc = 1 ] && [ ! -e "$work/s7" ] && [ -f "$work/s7.work/adapt.json" ] && ok "adapt onto 7.0 stops at the conflict" || fail "adapt: exit $rc"
rc=0; P adapt --continue "$work/s7.work" 2>/dev/null || rc=$?
[ $rc = 4 ] && [ ! -e "$work/s7" ] && ok "adapt --continue refuses while markers are left" || fail "continue with markers: exit $rc"
# A person resolves: keep both sides of each conflict.
$py - "$work/adapt7.json" <<'PY'
import json, sys
for path in json.load(open(sys.argv[1]))["edit"]:
    lines = open(path).read().splitlines(keepends=True)
    open(path, "w").writelines(l for l in lines if not l.startswith(("<<<<<<< ", "=======", ">>>>>>> ")))
PY
P adapt --continue "$work/s7.work" --json > "$work/continue7.json" && [ -f "$work/s7/poe.json" ] && [ ! -e "$work/s7.work" ] \
  && ok "adapt --continue writes the new series" || fail "adapt --continue"
$py - "$work/continue7.json" "$expect" <<'PY' && ok "range-diff comparison: upstream dropped, others same or changed" || fail "comparison"
import json, sys
r = json.load(open(sys.argv[1])); expect = json.loads(sys.argv[2])
ch = {c["name"]: c["change"] for c in r["comparison"]}
assert ch[expect["upstream"]] == "dropped", ch
assert ch[expect["applies"]] == "same" and ch[expect["offset"]] == "same", ch
assert ch[expect["conflict"]] == "changed", ch
PY
cp -a "$t7" "$work/g7"
(cd "$work/g7" && while read -r p; do git apply "$work/s7/$p" || exit 1; done < "$work/s7/series") \
  && ok "git apply of the adapted series on 7.0" || fail "git apply on 7.0"
P check "$work/s7" --onto tryton/7.0 --json | $py -c 'import json,sys; r=json.load(sys.stdin); assert all(p["status"]=="applies" for p in r["patches"]), r' \
  && ok "the adapted series applies exactly to 7.0" || fail "check adapted series"

# Down to 5.0.
rc=0; P check "$work/s6" --onto tryton/5.0 --json > "$work/check5.json" || rc=$?
[ $rc = 0 ] || [ $rc = 1 ] && $py -c 'import json,sys; r=json.load(open(sys.argv[1])); print("  onto 5.0:", {p["name"]: p["status"] for p in r["patches"]})' "$work/check5.json" \
  && ok "check onto 5.0 (exit $rc)" || fail "check onto 5.0: exit $rc"
rc=0; P adapt "$work/s6" --onto tryton/5.0 --output "$work/s5" >/dev/null || rc=$?
if [ $rc = 1 ]; then
  for f in $(find "$work/s5.work/files" -type f); do grep -q '^<<<<<<< ' "$f" && rm "$f"; done  # drop what conflicts
  P adapt --continue "$work/s5.work" >/dev/null && rc=0
fi
cp -a "$t5" "$work/g5"
[ $rc = 0 ] && (cd "$work/g5" && while read -r p; do git apply "$work/s5/$p" || exit 1; done < "$work/s5/series") \
  && ok "adapt down to 5.0, then git apply" || fail "adapt to 5.0: exit $rc"

echo "$fails failure(s)"
[ $fails = 0 ]
