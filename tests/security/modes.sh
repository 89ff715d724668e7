# SPDX-License-Identifier: GPL-3.0-or-later
# Hole 5 of issue 13, the modes: a root with a SQLite service (6.0) and a
# PostgreSQL one (6.0, the bed's cluster), backed up once each; every file
# and folder under the root is listed with its mode, owner and group and
# compared with the table in docs/xoe.md ("Files and modes", between the
# modes-table markers), read by this test, so the two cannot drift. A path
# that no row matches, or whose mode, owner or group differs, fails.
source "${OE_SOURCE_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}/tests/security/lib.sh"
bed_postgres
xoe_setup
X software fetch tryton/6.0 >/dev/null
sq=s$XID pg=t$XID
xoe_create "$sq" 6.0 sqlite production >/dev/null
xoe_create "$pg" 6.0 postgresql production >/dev/null
X backup "$sq" >/dev/null
X backup "$pg" >/dev/null
ok "services $sq (SQLite) and $pg (PostgreSQL), one backup each"

group=$(stat -c %G "$XROOT/var/lib/oe/xoe")
(cd "$XROOT" && find . -mindepth 1 -printf '%P\t%m\t%u\t%g\n') >"$BED_DIR/listing"
$py - "$OE_SOURCE_DIR/docs/xoe.md" "$BED_DIR/listing" "$group" "$sq" "$pg" <<'PY' || bed_fail "files under the root differ from docs/xoe.md's table"
import re, sys
doc, listing, group, *services = sys.argv[1:]
text = open(doc).read()
table = text.split("<!-- modes-table:begin -->")[1].split("<!-- modes-table:end -->")[0]
rows = []
for line in table.splitlines():
    cells = [c.strip().strip("`") for c in line.strip().strip("|").split("|")]
    if len(cells) != 5 or cells[0] in ("path", "") or set(cells[0]) <= set("-"):
        continue
    path, mode, owner, grp, _ = cells
    # NAME: a service; DB: its database; *: any name; **: any path
    rx = re.escape(path).replace(r"\*\*", ".+").replace(r"\*", "[^/]+")
    rx = rx.replace("NAME", "(?P<name>[^/]+)").replace("DB", "(?P=name)")
    rows.append((re.compile("^" + rx + "$"), path, mode, owner, grp))
bad = 0
for entry in open(listing).read().splitlines():
    path, mode, owner, grp = entry.split("\t")
    for rx, pattern, want_mode, want_owner, want_group in rows:
        m = rx.match(path)
        if not m:
            continue
        name = m.groupdict().get("name")
        user = None
        if name:
            user = ("xoe-" + name) if len("xoe-" + name) <= 32 else None
        def same(want, got):
            if want == "*": return True
            if want == "USER": return got == user or (user is None and got.startswith("xoe-"))
            if want == "GROUP": return got == group
            return want == got
        if not same(want_mode, mode) or not same(want_owner, owner) or not same(want_group, grp):
            print(f"{path}: {mode} {owner}:{grp}, documented {want_mode} {want_owner}:{want_group} ({pattern})")
            bad += 1
        break
    else:
        print(f"{path}: {mode} {owner}:{grp}, no row of the table")
        bad += 1
sys.exit(1 if bad else 0)
PY
ok "every file under the root has the documented mode, owner and group"
