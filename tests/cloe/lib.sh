# SPDX-License-Identifier: GPL-3.0-or-later
# Shared set-up of cloe's scenario tests: the bed, then
#   ok MESSAGE             logs a passed step
#   cloe_cache             [CLOE_CACHE] cloe's root in the test cache (OE_TEST_CACHE,
#                          default /var/cache/oe-test), kept between runs
#   cloe_template          [CLOE_TEMPLATE] the rootfs of the template `base` there,
#                          built when missing or changed (one build at a time)
#   cloe_repo              [CLOE_REPO CLOE_XOE_VERSION] the suite's oe-xoe of the
#                          build under test (CPack) in a flat repository (oe-apt-repo),
#                          made once per build (kept in BUILD/test-repo)
#   tryton_login URL DB LOGIN   a JSON-RPC login (password in OE_PW), retried until the
#                          server listens (60 s), never after an answer; prints the user id
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
  # Kept in the build folder while the build's xoe, poe and data files are
  # the same, so that every test of one run installs the same package (the
  # templates keyed by its checksum are built once) and cpack runs once.
  local key dir
  key=$({
    sha256sum "$OE_BUILD_DIR/bin/xoe" "$OE_BUILD_DIR/bin/poe" "$OE_BUILD_DIR/CPackConfig.cmake"
    find "$OE_BUILD_DIR/share/oe" -type f -print0 | sort -z | xargs -0 sha256sum
  } | sha256sum | cut -c1-16)
  dir=$OE_BUILD_DIR/test-repo/$key
  mkdir -p "$OE_BUILD_DIR/test-repo"
  (
    flock 9
    if [[ ! -f $dir/Packages ]]; then
      rm -rf "$OE_BUILD_DIR/test-repo"/*
      cpack -G DEB -B "$dir.pkg" --config "$OE_BUILD_DIR/CPackConfig.cmake" >"$BED_DIR/cpack.log" 2>&1 \
        || { cat "$BED_DIR/cpack.log" >&2; exit 1; }
      "$OE_SOURCE_DIR/packaging/oe-apt-repo" "$dir.partial" "$dir.pkg"/oe-xoe_*.deb >/dev/null
      rm -rf "$dir.pkg"
      mv "$dir.partial" "$dir"
    fi
  ) 9>"$OE_BUILD_DIR/test-repo.lock" || bed_fail "cpack or oe-apt-repo failed"
  CLOE_REPO=$dir
  CLOE_XOE_VERSION=$("$OE_BUILD_DIR/bin/xoe" --version)
  CLOE_XOE_VERSION=${CLOE_XOE_VERSION#xoe }
  export CLOE_REPO CLOE_XOE_VERSION
}
tryton_login() {
  /usr/bin/python3 - "$@" <<'PY'
import json, os, sys, time, urllib.error, urllib.request
url, db, login = sys.argv[1:4]
req = urllib.request.Request(f"{url.rstrip('/')}/{db}/", method="POST",
    data=json.dumps({"id": 1, "method": "common.db.login", "params": [login, {"password": os.environ["OE_PW"]}]}).encode(),
    headers={"Content-Type": "application/json"})
deadline = time.time() + 60
while True:
    try:
        answer = json.load(urllib.request.urlopen(req, timeout=30))
        break
    except urllib.error.HTTPError as e:
        sys.exit(f"login refused: {e}")
    except Exception as e:
        if time.time() > deadline:
            sys.exit(f"login failed: {e}")
        time.sleep(0.5)
if not isinstance(answer.get("result"), list):
    sys.exit(f"login refused: {answer}")
print(answer["result"][0])
PY
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
