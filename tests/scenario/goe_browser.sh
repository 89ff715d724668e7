# SPDX-License-Identifier: GPL-3.0-or-later
# goe's pages in a real browser (Debian's chromium driven by playwright-core
# from npm, tests/goe/browser) against the built goe and a real xoe root with
# a real Tryton 7.0 service on SQLite under runit: login (a wrong password
# refused), the Services page with the service's real state, stop and start
# through the page (the state read back with `xoe service show --json`), an
# operator who may not stop production, a viewer who sees but cannot act
# (no button, and the POST refused with 403), a request without the CSRF
# header refused; then the Copies page (copies.test.mjs): a training refresh
# from production's newest backup (named, with what it overwrites, before
# and in the task's log; production's marker read back in the training's
# database), a dissemination to three students whose Tryton logins work
# (credentials shown once), the group removed (read back through xoe);
# roles, CSRF, Origin and bad input refused with nothing changed. Any
# console error or CSP violation fails the test.
# Screenshots of each page go to BUILD/goe-screenshots (GOE_DOCS_SCREENSHOTS=1
# copies them into docs/).
source "${OE_SOURCE_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}/tests/bed/bed.sh"
bed_init
source "$OE_SOURCE_DIR/tests/xoe/lib.sh"
xoe_setup

chromium=$(command -v chromium || true)
[[ -x $chromium ]] || bed_fail "no chromium (Debian's package, .ci/packages.txt)"
command -v npm >/dev/null || bed_fail "no npm (.ci/install-deps)"

# playwright-core, pinned by the lock file, installed beside the build
# (never into the source tree), again only when the lock file changed; it
# never downloads a browser.
js=$OE_BUILD_DIR/tests/goe-browser
mkdir -p "$js"
for f in package.json package-lock.json .npmrc; do cp "$OE_SOURCE_DIR/tests/goe/browser/$f" "$js/$f"; done
if ! cmp -s "$js/package-lock.json" "$js/node_modules/.goe-lock" 2>/dev/null; then
  (cd "$js" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund >"$BED_DIR/npm.log" 2>&1) ||
    bed_fail "npm ci failed: $(tail -n 5 "$BED_DIR/npm.log")"
  cp "$js/package-lock.json" "$js/node_modules/.goe-lock"
fi
cp "$OE_SOURCE_DIR"/tests/goe/browser/*.test.mjs "$js/"

X software fetch tryton/7.0 >/dev/null
svc=gb-$XID
xoe_create "$svc" 7.0 sqlite production >/dev/null
bed_assert_eq run "$(X service show "$svc" --json | xoe_json 'd["service"]["state"]')" "state of $svc"
ok "a production Tryton 7.0 service runs"
# Its training service (the Copies page refreshes it from production and
# disseminates its database to students), and a marker in production's
# database that a refresh must carry over: the admin's name.
xoe_create "$svc-training" 7.0 sqlite training >/dev/null
marker=goe-marker-$XID
xoe_sql "$(X service show "$svc" --json)" "UPDATE res_user SET name = '$marker' WHERE login = 'admin'"
bed_assert_eq "$marker" "$(xoe_sql "$(X service show "$svc" --json)" "SELECT name FROM res_user WHERE login = 'admin'")" "marker"
ok "its training service runs, production's admin carries the marker"

# goe's users, one of each role; passwords on standard input.
declare -A pw
for role in admin operator viewer; do
  pw[$role]=$(openssl rand -hex 12)
  printf '%s\n' "${pw[$role]}" | goe --root "$XROOT" user add "$role-$XID" --role "$role" >/dev/null
done
bed_assert_eq "admin-$XID admin,operator-$XID operator,viewer-$XID viewer" \
  "$(goe --root "$XROOT" user list --json | xoe_json '",".join(u["name"]+" "+u["role"] for u in d["users"])')" "goe user list"

port=$(bed_free_port)
goe --root "$XROOT" serve --listen "127.0.0.1:$port" >"$BED_DIR/goe.out" 2>"$BED_DIR/goe.err" &
goe_pid=$!
bed_on_exit kill "$goe_pid"
bed_wait_port 127.0.0.1 "$port" 30
ok "goe serves on 127.0.0.1:$port"

# The browser test mounts a small filesystem as the backup folder for a
# while (a full disk); unmounted by the test, and here should it fail.
unmount_small() { umount "$XROOT/var/lib/oe/xoe/backups" 2>/dev/null || true; }
bed_on_exit unmount_small

shots=$OE_BUILD_DIR/goe-screenshots
mkdir -p "$shots"
# The passwords in a file only root reads, never on a command line.
(umask 077 && printf '%s %s %s\n' "${pw[admin]}" "${pw[operator]}" "${pw[viewer]}" >"$BED_DIR/passwords")
# One file after the other (copies.test.mjs refreshes from the backups
# services.test.mjs makes; the runner would sort them otherwise).
rc=0
(cd "$js" && export GOE_PASSWORDS="$BED_DIR/passwords" GOE_URL="http://127.0.0.1:$port" GOE_SERVICE="$svc" \
  XOE_ROOT="$XROOT" GOE_CHROMIUM="$chromium" GOE_MARKER="$marker" GOE_ADMIN="admin-$XID" GOE_OPERATOR="operator-$XID" \
  GOE_VIEWER="viewer-$XID" GOE_SHOTS="$shots" && node --test ./services.test.mjs && node --test ./copies.test.mjs) || rc=$?
if ((rc != 0)); then
  bed_log "goe's log: $(tail -n 20 "$BED_DIR/goe.err")"
  bed_fail "the browser tests failed ($rc)"
fi
# The passwords were in no log of goe's.
! grep -qF -e "${pw[admin]}" -e "${pw[operator]}" -e "${pw[viewer]}" "$BED_DIR/goe.err" "$BED_DIR/goe.out" ||
  bed_fail "a password is in goe's log"
bed_assert_eq run "$(X service show "$svc" --json | xoe_json 'd["service"]["state"]')" "state of $svc after the tests"
grep -q oe-bed-goe-small /proc/mounts && bed_fail "the small backup folder is still mounted"
if [[ ${GOE_DOCS_SCREENSHOTS:-} == 1 ]]; then cp "$shots"/goe-*.png "$OE_SOURCE_DIR/docs/"; fi
ok "browser tests passed; screenshots in $shots"
