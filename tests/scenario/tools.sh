# SPDX-License-Identifier: GPL-3.0-or-later
# The five executables: help, version, config show, the exit-code table on bad
# input, and nothing written when a command is refused.
set -euo pipefail
root=$(mktemp -d /tmp/oe-tools.XXXXXX)
trap 'rm -rf "$root"' EXIT
fails=0
check() { # description, expected exit, command...
  local what=$1 want=$2; shift 2
  local out rc=0
  out=$("$@" 2>&1) || rc=$?
  if [ "$rc" != "$want" ]; then
    echo "FAIL: $what: exit $rc, wanted $want: $out"; fails=$((fails + 1)); return
  fi
  if [ "$want" != 0 ] && [ "$(printf '%s\n' "$out" | wc -l)" != 1 ]; then
    echo "FAIL: $what: error is not one line: $out"; fails=$((fails + 1)); return
  fi
  echo "ok: $what"
}
for tool in hoe cloe xoe poe goe; do
  check "$tool --help" 0 "$tool" --help
  check "$tool --version" 0 "$tool" --version
  [ "$("$tool" --version)" = "$tool 0.1.0" ] || { echo "FAIL: $tool --version says $("$tool" --version)"; fails=$((fails + 1)); }
  check "$tool config show" 0 "$tool" --root "$root" config show
  "$tool" --root "$root" config show --json | /usr/bin/python3 -c 'import json,sys; d=json.load(sys.stdin); assert d["version"]==1 and d["config"]' \
    || { echo "FAIL: $tool config show --json"; fails=$((fails + 1)); }
  check "$tool unknown command" 2 "$tool" --root "$root" frobnicate
  check "$tool unknown option" 2 "$tool" --root "$root" config show --frob
  check "$tool no command" 2 "$tool" --root "$root"
  check "$tool missing root" 2 "$tool" --root "$root/missing" config show
  check "$tool root is a file" 2 "$tool" --root /etc/hostname config show
  check "$tool OE_ROOT missing" 2 env OE_ROOT="$root/missing" "$tool" config show
  check "$tool bad --set" 2 "$tool" --root "$root" --set nosuch.key=1 config show
  mkdir -p "$root/etc/oe"
  printf '[nosuch]\nkey = 1\n' > "$root/etc/oe/$tool.toml"
  check "$tool unknown key in file" 2 "$tool" --root "$root" config show
  msg=$("$tool" --root "$root" config show 2>&1 || true)
  [ "$msg" = "$tool: $root/etc/oe/$tool.toml:2: unknown key 'nosuch.key'" ] \
    || { echo "FAIL: $tool: the error names neither file nor line: $msg"; fails=$((fails + 1)); }
  printf 'this is = = not toml\n' > "$root/etc/oe/$tool.toml"
  check "$tool syntax error in file" 2 "$tool" --root "$root" config show
  # The commented example installed from etc/ is valid and changes nothing.
  cp "$OE_SOURCE_DIR/etc/oe/$tool.toml" "$root/etc/oe/$tool.toml"
  [ "$("$tool" --root "$root" config show)" = "$(rm "$root/etc/oe/$tool.toml"; "$tool" --root "$root" config show)" ] \
    || { echo "FAIL: $tool: etc/oe/$tool.toml is not the defaults"; fails=$((fails + 1)); }
done
# The configuration layers, each with its origin.
printf '# the referee\n[network]\nbridge = "br-lan"\n' > "$root/etc/oe/cloe.toml"
show=$(OE_CLOE_SSH_CONNECT_TIMEOUT=20 cloe --root "$root" --set cluster.name=east config show)
grep -Eq '^network.bridge +"br-lan" +.*cloe.toml:3$' <<<"$show" || { echo "FAIL: file layer: $show"; fails=$((fails + 1)); }
grep -Eq '^ssh.connect_timeout +20 +env OE_CLOE_SSH_CONNECT_TIMEOUT$' <<<"$show" || { echo "FAIL: env layer: $show"; fails=$((fails + 1)); }
grep -Eq '^cluster.name +"east" +--set$' <<<"$show" || { echo "FAIL: --set layer: $show"; fails=$((fails + 1)); }
grep -Eq '^libvirt.uri +"lxc:///system" +default$' <<<"$show" || { echo "FAIL: default layer: $show"; fails=$((fails + 1)); }
# The seed's syntax.
check "cloe @cluster --doctor (seed syntax) runs doctor" 0 bash -c "cloe --root '$root' @east --doctor --json >/dev/null || [ \$? = 6 ]"
check "hoe --subscription -declare reaches the subscription command" 2 hoe --root "$root" --subscription -declare
# Read-only commands write nothing.
[ ! -e "$root/var" ] || { echo "FAIL: a read-only command wrote under the root: $(find "$root/var")"; fails=$((fails + 1)); }
echo "$fails failed"
[ "$fails" = 0 ]
