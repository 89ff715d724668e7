# SPDX-License-Identifier: GPL-3.0-or-later
# xoe self-install and self-update against this host's real dpkg and apt:
# self-install --check reports xoe's and every recipe's packages (all present
# after .ci/install-deps); a recipe that needs a package no archive has makes
# --check exit 6 and self-install fail with apt's error (5); self-update
# installs a package file of the suite (a small one built here with
# dpkg-deb), refuses an older one, another package, a file that is not a
# package and a missing file, each with a one-line error.
source "${OE_SOURCE_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}/tests/bed/bed.sh"
bed_init
source "$OE_SOURCE_DIR/tests/xoe/lib.sh"
xoe_setup

tryton="tryton/5.0 tryton/6.0 tryton/7.0"
out=$(X self-install --check $tryton --json)
bed_assert_eq "[]" "$(xoe_json 'json.dumps(d["self"]["missing"])' <<<"$out")" "missing after install-deps"
for p in runit zstd postgresql-client python3-werkzeug python3-psycopg2; do
  bed_assert_contains "$(xoe_json '" ".join(d["self"]["present"])' <<<"$out")" "$p" "self-install --check lists $p"
done
rc=0; X self-install --check >/dev/null || rc=$?
[[ $rc == 0 || $rc == 6 ]] || bed_fail "self-install --check of every recipe: exit $rc"
xoe_expect 3 "no recipe for tryton/9.9" self-install --check tryton/9.9
ok "self-install --check: xoe's and the Tryton recipes' packages are present (the Odoo recipes' are not installed here)"

mkdir "$BED_DIR/recipes"
cp "$OE_SOURCE_DIR"/etc/oe/recipes/*.toml "$BED_DIR/recipes/"
sed -i 's/^packages = \["python3-bcrypt",/packages = ["oe-test-no-such-package", "python3-bcrypt",/' "$BED_DIR/recipes/tryton-7.0.toml"
grep -q oe-test-no-such-package "$BED_DIR/recipes/tryton-7.0.toml" || bed_fail "the test recipe was not changed"
rc=0; out=$(OE_XOE_SOFTWARE_RECIPES=$BED_DIR/recipes X self-install --check $tryton --json) || rc=$?
bed_assert_eq 6 "$rc" "self-install --check with a missing package"
bed_assert_eq '["oe-test-no-such-package"]' "$(xoe_json 'json.dumps(d["self"]["missing"])' <<<"$out")" "missing"
rc=0; err=$(OE_XOE_SOFTWARE_RECIPES=$BED_DIR/recipes X self-install $tryton 2>&1 >/dev/null) || rc=$?
bed_assert_eq 5 "$rc" "self-install of a package no archive has"
bed_assert_contains "$(tail -n 1 <<<"$err")" "apt-get" "the error names apt-get"
ok "a package no archive has: --check exits 6, self-install fails with apt's error (5)"

# Package files, built here.
mkpkg() {  # mkpkg NAME VERSION -> prints the .deb's path
  local d=$BED_DIR/pkg-$1-$2
  mkdir -p "$d/DEBIAN" "$d/usr/share/doc/oe-xoe-test"
  printf 'Package: %s\nVersion: %s\nArchitecture: all\nMaintainer: test <root@localhost>\nDescription: xoe self-update test\n' \
    "$1" "$2" >"$d/DEBIAN/control"
  echo "$1 $2" >"$d/usr/share/doc/oe-xoe-test/$1"
  dpkg-deb --build --root-owner-group "$d" "$d.deb" >/dev/null
  echo "$d.deb"
}
echo "not a package" >"$BED_DIR/garbage.deb"
xoe_expect 3 "no package file" self-update "$BED_DIR/nosuch.deb"
xoe_expect 2 "not a Debian package file" self-update "$BED_DIR/garbage.deb"
xoe_expect 2 "holds the package oe-other-test, not oe-xoe" self-update "$(mkpkg oe-other-test 1.0)"
if dpkg-query -W oe-xoe >/dev/null 2>&1; then
  bed_log "oe-xoe is installed on this host: the installing part is left out here (it runs on CI's fresh machine)"
  [[ -z ${CI:-} ]] || bed_fail "oe-xoe installed on a CI machine"
else
  uninstall() { dpkg -r oe-xoe >/dev/null 2>&1 || true; }
  bed_on_exit uninstall
  out=$(X self-update "$(mkpkg oe-xoe 0.0.2~oetest)" --json)
  bed_assert_eq " 0.0.2~oetest" "$(xoe_json 'd["update"]["from"] + " " + d["update"]["to"]' <<<"$out")" "from and to"
  bed_assert_eq "0.0.2~oetest" "$(dpkg-query -W -f='${Version}' oe-xoe)" "installed version"
  [[ -f /usr/share/doc/oe-xoe-test/oe-xoe ]] || bed_fail "the package's file is not installed"
  xoe_expect 2 "oe-xoe 0.0.1~oetest is older than the installed 0.0.2~oetest" self-update "$(mkpkg oe-xoe 0.0.1~oetest)"
  bed_assert_eq "0.0.2~oetest" "$(dpkg-query -W -f='${Version}' oe-xoe)" "version after the refused downgrade"
  out=$(X self-update "$(mkpkg oe-xoe 0.0.3~oetest)" --json)
  bed_assert_eq "0.0.2~oetest 0.0.3~oetest" "$(xoe_json 'd["update"]["from"] + " " + d["update"]["to"]' <<<"$out")" "update"
  # The real thing: the suite's own package, made by CPack from this build.
  cpack -G DEB -B "$BED_DIR/pkg" --config "$OE_BUILD_DIR/CPackConfig.cmake" >"$BED_DIR/cpack.log" 2>&1 \
    || { cat "$BED_DIR/cpack.log" >&2; bed_fail "cpack"; }
  deb=$(ls "$BED_DIR"/pkg/oe-xoe_*.deb)
  version=$(dpkg-deb -f "$deb" Version)
  out=$(X self-update "$deb" --json)
  bed_assert_eq "0.0.3~oetest $version" "$(xoe_json 'd["update"]["from"] + " " + d["update"]["to"]' <<<"$out")" "update to the CPack package"
  bed_assert_eq "$version" "$(dpkg-query -W -f='${Version}' oe-xoe)" "installed version of the CPack package"
  for tool in xoe poe; do
    bed_assert_contains "$(/usr/bin/$tool --version)" "$version" "/usr/bin/$tool --version"
  done
  [[ -f /usr/share/oe/recipes/tryton-7.0.toml ]] || bed_fail "the recipes are not installed"
  [[ -f /usr/share/oe/xoe/tryton_guard.py ]] || bed_fail "the guard of the Tryton servers is not installed"
  # The installed xoe works: it reads this root with the installed recipes.
  bed_assert_contains "$(OE_XOE_SOFTWARE_RECIPES= /usr/bin/xoe --root "$XROOT" software list --json)" '"version": "7.0"' "the installed xoe"
  xoe_expect 2 "oe-xoe 0.0.3~oetest is older than the installed $version" self-update "$(mkpkg oe-xoe 0.0.3~oetest)"
  dpkg -r oe-xoe >/dev/null
  [[ ! -e /usr/bin/xoe ]] || bed_fail "/usr/bin/xoe left after dpkg -r"
fi
ok "self-update: installs the suite's package (small test packages, then the one CPack makes from this build), refuses older, other, broken and missing files"
