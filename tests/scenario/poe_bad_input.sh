# SPDX-License-Identifier: GPL-3.0-or-later
# poe on bad input: each case is a one-line error, exit 2, nothing written.
# Also a binary file changed (not only added) on a small standard, proven by
# git apply. Needs no network: the trees are made here.
set -euo pipefail
work=$(mktemp -d /tmp/oe-poe-bad.XXXXXX)
trap 'rm -rf "$work"' EXIT
fails=0
root="$work/root"; mkdir -p "$root"
P() { poe --root "$root" "$@"; }
snapshot() { (cd "$work" && find . -path ./root/var/log -prune -o -print | sort | md5sum); }
bad() { # description, command...
  local what=$1; shift
  local before after out rc=0
  before=$(snapshot)
  out=$("$@" 2>&1) || rc=$?
  after=$(snapshot)
  if [ $rc != 2 ]; then echo "FAIL: $what: exit $rc: $out"; fails=$((fails + 1)); return; fi
  if [ "$(printf '%s\n' "$out" | wc -l)" != 1 ]; then echo "FAIL: $what: not one line: $out"; fails=$((fails + 1)); return; fi
  if [ "$before" != "$after" ]; then echo "FAIL: $what: something was written"; fails=$((fails + 1)); return; fi
  echo "ok: $what ($out)"
}

# A small standard with a binary file, and a customised copy.
mkdir -p "$work/std/modules/m/icons" "$work/std/ir"
printf 'line %s\n' $(seq 1 40) > "$work/std/modules/m/a.py"
printf '<xml/>\n' > "$work/std/ir/view.xml"
printf 'keep\n' > "$work/std/ir/keep.py"
head -c 300 /dev/urandom > "$work/std/modules/m/icons/logo.png"; printf '\0' >> "$work/std/modules/m/icons/logo.png"
P standard import test/1.0 "$work/std" >/dev/null
cp -a "$work/std" "$work/cust"
sed -i 's/^line 20$/line twenty/' "$work/cust/modules/m/a.py"
head -c 200 /dev/urandom > "$work/cust/modules/m/icons/logo.png"; printf '\0' >> "$work/cust/modules/m/icons/logo.png"
rm "$work/cust/ir/view.xml"
P diff --standard test/1.0 "$work/cust" --output "$work/s" >/dev/null
cp -a "$work/std" "$work/g"
if (cd "$work/g" && git apply "$work/s/ir.patch" "$work/s/modules-m.patch") && diff -r "$work/cust" "$work/g" >/dev/null \
  && grep -q 'GIT binary patch' "$work/s/modules-m.patch"; then echo "ok: a changed binary file, by git apply"; else echo "FAIL: binary change"; fails=$((fails + 1)); fi
P diff --standard test/1.0 "$work/cust" --output "$work/sf" --split file >/dev/null && [ "$(wc -l < "$work/sf/series")" = 3 ] \
  && echo "ok: --split file" || { echo "FAIL: --split file"; fails=$((fails + 1)); }
rm -rf "$work/g" "$work/sf"

# The bad inputs.
printf 'x\n' > "$work/file"
bad "DIR is a file (import)" P standard import test/2.0 "$work/file"
bad "DIR is missing (diff)" P diff --standard test/1.0 "$work/nothing" --output "$work/o"
bad "DIR is a file (diff)" P diff --standard test/1.0 "$work/file" --output "$work/o"
mkdir -p "$work/evil"; ln -s /etc/passwd "$work/evil/passwd"
bad "symlink to an absolute path" P standard import test/2.0 "$work/evil"
rm -rf "$work/evil"; mkdir -p "$work/evil/sub"; ln -s ../../outside "$work/evil/sub/up"
bad "symlink climbing out of the tree" P diff --standard test/1.0 "$work/evil" --output "$work/o"
rm -rf "$work/evil"; mkdir -p "$work/evil"; touch "$work/evil/$(printf 'new\nline')"
bad "file name with a newline" P standard import test/2.0 "$work/evil"
rm -rf "$work/evil"; mkdir -p "$work/evil"; touch "$work/evil/$(printf 'bad\xff\xfename')"
bad "file name not UTF-8" P diff --standard test/1.0 "$work/evil" --output "$work/o"
rm -rf "$work/evil"
bad "bad standard name" P standard import 'Test/x' "$work/std"
bad "standard that does not exist (diff)" P diff --standard test/9.9 "$work/cust" --output "$work/o"
bad "standard that does not exist (check)" P check "$work/s" --onto test/9.9
bad "standard that does not exist (apply)" P apply "$work/s" --standard test/9.9 --output "$work/o"
bad "output folder exists (diff)" P diff --standard test/1.0 "$work/cust" --output "$work/s"
mkdir "$work/o"
bad "output folder exists (apply)" P apply "$work/s" --output "$work/o"
bad "output folder exists (adapt)" P adapt "$work/s" --onto test/1.0 --output "$work/o"
rmdir "$work/o"
bad "series is not a folder" P check "$work/file" --onto test/1.0
cp -a "$work/s" "$work/t1"; head -c -40 "$work/s/modules-m.patch" > "$work/t1/modules-m.patch"
bad "truncated patch" P check "$work/t1" --onto test/1.0
cp -a "$work/s" "$work/t2"; sed -i 's/^-line 20$/-line 21/' "$work/t2/modules-m.patch"
bad "changed patch (patch-id differs from poe.json)" P apply "$work/t2" --output "$work/o"
cp -a "$work/s" "$work/t3"; printf 'garbage\x00\x01 not a patch\n' > "$work/t3/ir.patch"
bad "corrupt patch" P series show "$work/t3"
cp -a "$work/s" "$work/t4"; sed -i 's/"ir.patch"/"other.patch"/' "$work/t4/poe.json"
bad "poe.json names another patch than the series file" P check "$work/t4" --onto test/1.0
cp -a "$work/s" "$work/t5"; sed -i 's#"modules/m/a.py"#"modules/m/b.py"#' "$work/t5/poe.json"
bad "poe.json files do not match the patch" P check "$work/t5" --onto test/1.0
cp -a "$work/s" "$work/t6"; printf '{"version": 1' > "$work/t6/poe.json"
bad "poe.json is not JSON" P series show "$work/t6"
cp -a "$work/s" "$work/t7"; rm "$work/t7/ir.patch"
bad "patch file missing" P check "$work/t7" --onto test/1.0
bad "fuzz out of range" P check "$work/s" --onto test/1.0 --fuzz 9
bad "adapt --continue on a folder that is not a work folder" P adapt --continue "$work/std"
bad "apply with both --output and --in-place" P apply "$work/s" --output "$work/o" --in-place "$work/cust"

echo "$fails failure(s)"
[ $fails = 0 ]
