# SPDX-License-Identifier: GPL-3.0-or-later
# Shared set-up of cloe's scenario tests: the bed, then
#   ok MESSAGE             logs a passed step
#   cloe_cache             [CLOE_CACHE] cloe's root in the test cache (OE_TEST_CACHE,
#                          default /var/cache/oe-test), kept between runs
#   cloe_template          [CLOE_TEMPLATE] the rootfs of the template `base` there,
#                          built when missing or changed (one build at a time)
#   cloe_repo              [CLOE_REPO CLOE_XOE_VERSION] the suite's packages of the
#                          build under test (CPack) in a flat repository (oe-apt-repo)
#   cloe_vservers          [CLOE_STORAGE] a storage folder on the bed's private
#                          libvirtd; vservers named with cloe_vserver_name are
#                          brought down (vserver_probe down) at exit
source "$OE_SOURCE_DIR/tests/bed/bed.sh"
bed_init
ok() { bed_log "ok: $*"; }

cloe_cache() {
  CLOE_CACHE=${OE_TEST_CACHE:-/var/cache/oe-test}/cloe-root
  mkdir -p "$CLOE_CACHE"
  export CLOE_CACHE
}

cloe_template() {
  cloe_cache
  (
    flock 9
    cloe --root "$CLOE_CACHE" template build base >/dev/null
  ) 9>"$CLOE_CACHE/.test-lock" || bed_fail "template build failed"
  CLOE_TEMPLATE=$CLOE_CACHE/var/lib/oe/cloe/templates/base/rootfs
  export CLOE_TEMPLATE
}

cloe_repo() {
  local pkg=$BED_DIR/pkg
  CLOE_REPO=$BED_DIR/repo
  cpack -G DEB -B "$pkg" --config "$OE_BUILD_DIR/CPackConfig.cmake" >"$BED_DIR/cpack.log" 2>&1 \
    || { cat "$BED_DIR/cpack.log" >&2; bed_fail "cpack"; }
  "$OE_SOURCE_DIR/packaging/oe-apt-repo" "$CLOE_REPO" "$pkg"/oe-xoe_*.deb >/dev/null
  CLOE_XOE_VERSION=$("$OE_BUILD_DIR/bin/xoe" --version)
  CLOE_XOE_VERSION=${CLOE_XOE_VERSION#xoe }
  export CLOE_REPO CLOE_XOE_VERSION
}
_CLOE_VSERVERS=()
cloe_vservers() {
  command -v vserver_probe >/dev/null || bed_fail "vserver_probe not built"
  bed_libvirtd
  CLOE_STORAGE=$BED_DIR/storage
  mkdir -p "$CLOE_STORAGE"
  export CLOE_STORAGE
  bed_on_exit _cloe_vservers_down
}
# cloe_vserver_name PREFIX: a name for this bed, brought down at exit.
cloe_vserver_name() { _CLOE_VSERVERS+=("$1-${BED_ID,,}"); }
_cloe_vservers_down() {
  local n
  for n in "${_CLOE_VSERVERS[@]}"; do vserver_probe down "$BED_LIBVIRT_URI" "$CLOE_STORAGE" "$n" 2>/dev/null || true; done
}
# E NAME CMD...: CMD inside vserver NAME as its root.
E() { local n=$1; shift; cloe __enter "$BED_LIBVIRT_URI" "$n" "$@"; }
