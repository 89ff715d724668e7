# SPDX-License-Identifier: GPL-3.0-or-later
# Hole 6 of issue 13: archive members are checked before anything is
# unpacked. A real backup, rebuilt by a customer with one bad member each
# (a '..' path, an absolute path, a symbolic link out and a file written
# through it, a hard link out, a character device, a FIFO, a link out whose
# name holds a newline), sealed with a fresh .sha256 as anyone who can
# write the archive can. Without this root's MAC such an archive is refused
# outright (security.pg_customer_code); here the admin even trusts it
# (--trust), and still xoe restore --as and xoe backup verify refuse each
# with exit 2 and one line naming the member, before any service is
# created, and nothing outside the root is written. On the old code these
# ended in exit 5 after a service was created and rolled back, and the
# absolute member was accepted with exit 0.
source "${OE_SOURCE_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}/tests/security/lib.sh"
xoe_setup
sec_outside
X software fetch tryton/6.0 >/dev/null
n=m$XID
xoe_create "$n" 6.0 sqlite production >/dev/null
a=$(X backup "$n" --json | xoe_json 'd["backup"]["archive"]')
good=$BED_DIR/good
mkdir -p "$good" && tar --zstd -xf "$a" -C "$good"
ok "service $n and its archive"

# craft NAME PYTHON: the archive's members plus those PYTHON adds (helpers
# f, sym, hard, special), zstd-compressed and sealed; prints its path.
craft() {
  local dir=$BED_DIR/cases/$1
  mkdir -p "$dir"
  $py - "$good" "$dir/plain.tar" "$2" <<'PY'
import io, os, sys, tarfile
good, out, code = sys.argv[1:4]
t = tarfile.open(out, "w", format=tarfile.GNU_FORMAT)
for name in sorted(os.listdir(good)):
    t.add(os.path.join(good, name), arcname=name)
def f(name, data=b"pwned\n"):
    i = tarfile.TarInfo(name); i.size = len(data); i.mode = 0o644; t.addfile(i, io.BytesIO(data))
def sym(name, target):
    i = tarfile.TarInfo(name); i.type = tarfile.SYMTYPE; i.linkname = target; t.addfile(i)
def hard(name, target):
    i = tarfile.TarInfo(name); i.type = tarfile.LNKTYPE; i.linkname = target; t.addfile(i)
def special(name, kind):
    i = tarfile.TarInfo(name); i.type = kind; i.devmajor = 1; i.devminor = 3; t.addfile(i)
exec(code)
t.close()
PY
  zstd -q --rm "$dir/plain.tar" -o "$dir/$n-20200101T000000Z.tar.zst"
  sec_seal "$dir/$n-20200101T000000Z.tar.zst"
  echo "$dir/$n-20200101T000000Z.tar.zst"
}

services() { X service list --json | xoe_json '" ".join(sorted(s["name"] for s in d["services"]))'; }
before=$(services)
dots=$(printf '../%.0s' {1..20})
i=0
check() {
  local what=$1 part=$2 code=$3 file
  i=$((i + 1))
  file=$(craft "$i" "$code")
  xoe_expect 2 "$part" restore "$n" "$file" --as "r$i$XID" --trust
  xoe_expect 2 "$part" backup verify "$file" --trust
  bed_assert_eq "$before" "$(services)" "services after the restore of the archive with $what"
  [[ -z $(ls "$BED_DIR" | grep pwned) ]] || bed_fail "$what: a file was written outside the root: $(ls "$BED_DIR" | grep pwned)"
  sec_assert_unchanged "$what"
  ok "$what: exit 2 naming the member, nothing created"
}
check "a '..' member" "member 'data/${dots}${BED_DIR#/}/pwned-dots' refused: '..'" "f('data/$dots${BED_DIR#/}/pwned-dots')"
check "an absolute member" "member '$BED_DIR/pwned-absolute' refused: absolute" "f('$BED_DIR/pwned-absolute')"
check "a symbolic link out" "member 'data/out' refused: symbolic link to '$OUTSIDE' leaves its folder" \
  "sym('data/out', '$OUTSIDE'); f('data/out/f1')"
check "a relative symbolic link out" "member 'data/up' refused: symbolic link to '../../../../..' leaves" \
  "sym('data/up', '../../../../..')"
check "a hard link out" "member 'data/hard' refused: hard link to '$OUTSIDE/f1'" "hard('data/hard', '$OUTSIDE/f1')"
check "a device" "member 'data/null' refused: character device" "special('data/null', tarfile.CHRTYPE)"
check "a FIFO" "member 'data/fifo' refused: FIFO" "special('data/fifo', tarfile.FIFOTYPE)"
check "a name with a newline" "refused: symbolic link to '/etc'" "sym('data/a\\nb', '/etc')"
