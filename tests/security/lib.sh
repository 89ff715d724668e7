# SPDX-License-Identifier: GPL-3.0-or-later
# Shared set-up of the attack tests (tests/security/): the bed and xoe's
# scenario library, plus what a hostile customer uses and what the tests
# check afterwards.
#   sec_outside              [OUTSIDE] a root-owned folder outside the root, 40 files of 0600 "SECRET-..."
#   sec_snapshot DIR         prints owner, group, mode, size and sha256 of everything under DIR
#   sec_assert_unchanged     OUTSIDE is as sec_outside left it (owners and contents)
#   sec_swap USER FOLDER     starts swap.py as USER in FOLDER (d <-> s -> OUTSIDE); sec_swap_stop ends it
#   sec_seal ARCHIVE         writes ARCHIVE.sha256 as xoe backup does
#   sec_data NAME            the data folder of service NAME
source "${OE_SOURCE_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}/tests/bed/bed.sh"
bed_init
source "$OE_SOURCE_DIR/tests/xoe/lib.sh"

sec_snapshot() {
  (cd "$1" && find . -printf '%p %u %g %m %s\n' | LC_ALL=C sort && find . -type f -print0 | LC_ALL=C sort -z | xargs -0 -r sha256sum)
}

sec_outside() {
  OUTSIDE=$BED_DIR/outside
  mkdir -p "$OUTSIDE/sub"
  chmod 700 "$OUTSIDE"
  local i
  for i in $(seq 1 20); do
    echo "SECRET-$BED_ID-$i" >"$OUTSIDE/f$i"
    echo "SECRET-$BED_ID-sub-$i" >"$OUTSIDE/sub/f$i"
  done
  chmod 600 "$OUTSIDE"/f* "$OUTSIDE"/sub/f*
  _SEC_OUTSIDE_BEFORE=$(sec_snapshot "$OUTSIDE")
  export OUTSIDE
}

sec_assert_unchanged() {
  local now
  now=$(sec_snapshot "$OUTSIDE")
  [[ $now == "$_SEC_OUTSIDE_BEFORE" ]] ||
    bed_fail "$1: files outside the root changed: $(diff <(echo "$_SEC_OUTSIDE_BEFORE") <(echo "$now") | head -5 | tr '\n' ' ')"
}

_SEC_SWAP_PIDS=()
sec_swap() {
  # setpriv execs the program itself: $! is the swapper, killed alone (started in /).
  cd /
  setpriv --reuid "$1" --regid "$(id -g "$1")" --init-groups -- \
    "$py" "$OE_SOURCE_DIR/tests/security/swap.py" "$2" "$OUTSIDE" 2>>"$BED_DIR/swap.log" &
  _SEC_SWAP_PIDS+=($!)
  sleep 0.3
}
sec_swap_stop() {
  local p
  for p in "${_SEC_SWAP_PIDS[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
  _SEC_SWAP_PIDS=()
}
bed_on_exit sec_swap_stop

sec_seal() { (cd "$(dirname "$1")" && sha256sum "${1##*/}" >"${1##*/}.sha256"); }

sec_data() { echo "$XROOT/var/lib/oe/xoe/services/$1/data"; }
