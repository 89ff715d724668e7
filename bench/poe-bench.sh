#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# poe's speed against git's on a tree the size of an Odoo checkout:
# POE_BENCH_FILES files (50,000) of POE_BENCH_KB KiB on average (10: 500 MB),
# a new version that changes 2% of the files, a customised copy touching 200
# files. Times, side by side in one run:
#   poe diff   vs  git diff --no-index (standard vs customised tree)
#   poe check  vs  git apply --check --3way (the series onto the new version,
#                  in a scratch repository holding both versions)
# and prints both ratios (goal: at most 1.5 each). Needs poe on PATH.
set -euo pipefail
files=${POE_BENCH_FILES:-50000}
kb=${POE_BENCH_KB:-10}
work=$(mktemp -d /tmp/oe-poe-bench.XXXXXX)
trap 'rm -rf "$work"' EXIT
now() { date +%s.%N; }
elapsed() { echo "$(now) - $1" | bc; }

echo "bench: generating $files files of ~${kb} KiB"
/usr/bin/python3 - "$work" "$files" "$kb" <<'PY'
import os, random, sys, shutil
work, files, kb = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
rnd = random.Random(42)
words = ["fields", "model", "self", "record", "return", "def", "class", "import", "partner", "invoice", "amount", "state"]
def text(n):
    return "".join("    %s = %s(%d)  # %s\n" % (rnd.choice(words), rnd.choice(words), rnd.randrange(10**6), rnd.choice(words))
                   for _ in range(n))
std = os.path.join(work, "std")
lines = kb * 1024 // 45
paths = []
for i in range(files):
    d = os.path.join(std, "addons", "mod%03d" % (i % 400), "sub%d" % (i % 7))
    os.makedirs(d, exist_ok=True)
    p = os.path.join(d, "file%05d.py" % i)
    with open(p, "w") as f:
        f.write(text(lines))
    paths.append(p)
shutil.copytree(std, os.path.join(work, "new"))
shutil.copytree(std, os.path.join(work, "custom"))
for i, p in enumerate(rnd.sample(paths, files // 50)):  # the new version: lines inserted at the top
    q = p.replace("/std/", "/new/")
    with open(q) as f: body = f.read()
    with open(q, "w") as f: f.write("# new version %d\n" % i + body)
for i, p in enumerate(rnd.sample(paths, 200)):  # the customisation: one line changed in the middle
    q = p.replace("/std/", "/custom/")
    with open(q) as f: body = f.read().splitlines(keepends=True)
    body[len(body) // 2] = "    custom = True  # %d\n" % i
    with open(q, "w") as f: f.writelines(body)
PY
echo "bench: $(du -sh "$work/std" | cut -f1) per tree"
root="$work/root"; mkdir -p "$root"
t=$(now); poe --root "$root" standard import bench/1.0 "$work/std" >/dev/null; echo "poe standard import: $(elapsed "$t") s"
poe --root "$root" standard import bench/2.0 "$work/new" >/dev/null

t=$(now); poe --root "$root" diff --standard bench/1.0 "$work/custom" --output "$work/series" >/dev/null; poe_diff=$(elapsed "$t")
t=$(now); (cd "$work" && git diff --no-index --binary --full-index std custom > "$work/git.diff" || true); git_diff=$(elapsed "$t")

git init -q "$work/repo"
(cd "$work/repo" && cp -a "$work/std/." . && git add -A && git -c user.name=b -c user.email=b@b commit -qm std \
  && git rm -rq . && cp -a "$work/new/." . && git add -A && git -c user.name=b -c user.email=b@b commit -qm new)
cat $(sed "s#^#$work/series/#" "$work/series/series") > "$work/all.patch"
t=$(now); rc=0; poe --root "$root" check "$work/series" --onto bench/2.0 >/dev/null || rc=$?; poe_check=$(elapsed "$t")
t=$(now); (cd "$work/repo" && git apply --check --3way "$work/all.patch" 2>/dev/null || true); git_check=$(elapsed "$t")

printf 'poe diff   %6.2f s   git diff --no-index        %6.2f s   ratio %.2f\n' "$poe_diff" "$git_diff" "$(echo "$poe_diff / $git_diff" | bc -l)"
printf 'poe check  %6.2f s   git apply --check --3way   %6.2f s   ratio %.2f\n' "$poe_check" "$git_check" "$(echo "$poe_check / $git_check" | bc -l)"
