#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Customises a copy of Tryton 6.0 as an integrator would, choosing the edits
from the real differences between 6.0 and 7.0 so that `poe check --onto 7.0`
meets every status. Usage: customise.py OLD NEW OUT; prints a JSON object
{status: patch name} of the patches it expects, and never writes into OLD or
NEW. Each status gets its own module, so each patch has one expected status."""
import difflib
import json
import os
import shutil
import sys

old, new, out = sys.argv[1:4]
shutil.copytree(old, out, symlinks=True)


def modules():
    names = sorted(os.listdir(os.path.join(old, "modules")))
    top = sorted(n for n in os.listdir(old) if os.path.isdir(os.path.join(old, n)) and n not in ("modules", "tests"))
    return ["modules/" + n for n in names if os.path.isdir(os.path.join(old, "modules", n))] + top


def files(module, ext=(".py",)):
    root = os.path.join(old, module)
    for dirpath, _, names in sorted(os.walk(root)):
        for n in sorted(names):
            p = os.path.join(dirpath, n)
            if n.endswith(ext) and not os.path.islink(p):
                yield os.path.relpath(p, old)


def read(tree, rel):
    p = os.path.join(tree, rel)
    if not os.path.isfile(p) or os.path.islink(p):
        return None
    with open(p, encoding="utf-8", errors="surrogateescape") as f:
        return f.read().splitlines(keepends=True)


def write(rel, lines):
    p = os.path.join(out, rel)
    if os.path.islink(p):
        os.unlink(p)
    with open(p, "w", encoding="utf-8", errors="surrogateescape") as f:
        f.writelines(lines)


def plain(line):  # a code line we may put a comment after
    s = line.strip()
    return s and not s.startswith("#") and not s.endswith("\\") and '"""' not in s and "'''" not in s


used = set()
chosen = {}


def pick(status, test, ext=(".py",)):
    for m in modules():
        if m in used:
            continue
        for rel in files(m, ext):
            a, b = read(old, rel), read(new, rel)
            if a is None:
                continue
            edit = test(rel, a, b)
            if edit is not None:
                write(rel, edit)
                used.add(m)
                chosen[status] = m.replace("/", "-") + ".patch"
                return
    raise SystemExit("customise.py: no file for status " + status)


def applies(rel, a, b):
    if b is None or len(a) < 30:
        return None
    tag, i1, i2, j1, j2 = difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes()[0]
    if tag != "equal" or i2 < 28 or not plain(a[19]):
        return None  # the first 28 lines must be the same, at the same place
    return a[:20] + ["# poe: customised\n"] + a[20:]


def offset(rel, a, b):
    if b is None or a == b:
        return None
    ops = difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes()
    tag, i1, i2, j1, j2 = ops[-1]
    if tag != "equal" or i2 - i1 < 20 or i1 == j1 or len(ops) < 2:
        return None
    at = i1 + 10
    if not plain(a[at - 1]):
        return None
    return a[:at] + ["# poe: moved lines\n"] + a[at:]


def merges(rel, a, b):
    if b is None or a == b:
        return None
    ops = difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes()
    for k in range(1, len(ops) - 1):
        tag, i1, i2, j1, j2 = ops[k]
        after = ops[k + 1]
        if tag == "replace" and after[0] == "equal" and after[2] - after[1] >= 12 and i1 > 3:
            at = i2 + 2  # two unchanged lines between: the hunk's context holds an upstream change
            if plain(a[at - 1]) and a[at - 1] == a[at - 1].rstrip("\n") + "\n":
                return a[:at] + ["# poe: merged\n"] + a[at:]
    return None


def conflict(rel, a, b):
    if b is None or a == b:
        return None
    ops = difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes()
    for tag, i1, i2, j1, j2 in ops:
        if tag == "replace" and i2 - i1 == 1 and plain(a[i1]):
            edited = a[i1].rstrip("\n") + "  # poe: conflict\n"
            return a[:i1] + [edited] + a[i1 + 1:]
    return None


def upstream(rel, a, b):
    if b is None or a == b:
        return None
    ops = [o for o in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes() if o[0] != "equal"]
    if len(ops) == 1 and ops[0][0] == "replace" and ops[0][2] - ops[0][1] <= 3:
        return b  # 7.0's change, made to 6.0
    return None


new_names = set()
for dirpath, _, names in os.walk(new):
    new_names.update(names)


def removed(rel, a, b):
    if b is not None or os.path.basename(rel) in new_names or len(a) < 10:
        return None
    if os.path.exists(os.path.join(new, os.path.dirname(rel))) is False:
        return None
    module = rel.split("/")[0] if not rel.startswith("modules/") else "/".join(rel.split("/")[:2])
    for dirpath, _, names in os.walk(os.path.join(new, module)):
        for n in names:
            other = read(new, os.path.relpath(os.path.join(dirpath, n), new))
            if other and difflib.SequenceMatcher(None, a, other, autojunk=False).quick_ratio() > 0.5:
                return None  # it may have been renamed: not a removal
    at = len(a) // 2
    return a[:at] + ["# poe: edited, removed upstream\n"] + a[at:]


for status, test in (("upstream", upstream), ("conflict", conflict), ("removed", removed), ("merges", merges),
                     ("offset", offset), ("applies", applies)):
    pick(status, test, (".py", ".xml", ".rst", ".fodt") if status == "removed" else (".py",))

# Also in the "applies" module: an XML view edited and a file deleted, both
# unchanged in the new version.
m = [k for k, v in chosen.items() if k == "applies"][0]
mod = chosen[m][:-len(".patch")]
mod = mod.replace("-", "/", 1) if mod.startswith("modules-") else mod
for rel in files(mod, (".xml",)):
    a, b = read(old, rel), read(new, rel)
    if a == b and a and len(a) > 8 and a[-1].strip().startswith("</"):
        write(rel, a[:-1] + ["<!-- poe: customised view -->\n", a[-1]])
        break
for rel in files(mod, (".po", ".rst", ".xml", ".py", ".fodt", ".cfg")):
    if read(old, rel) == read(new, rel) == read(out, rel) and not rel.endswith("__init__.py"):
        os.unlink(os.path.join(out, rel))
        break

# A new module with a binary icon.
nm = os.path.join(out, "modules", "poe_custom")
os.makedirs(os.path.join(nm, "icons"))
with open(os.path.join(nm, "__init__.py"), "w") as f:
    f.write("# poe_custom: an integrator's module\n\ndef register():\n    pass\n")
with open(os.path.join(nm, "tryton.cfg"), "w") as f:
    f.write("[tryton]\ndepends:\n    ir\n")
with open(os.path.join(nm, "icons", "poe.png"), "wb") as f:
    f.write(bytes(range(256)) * 3 + b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR")
chosen["new"] = "modules-poe_custom.patch"
json.dump(chosen, sys.stdout, indent=1)
print()
