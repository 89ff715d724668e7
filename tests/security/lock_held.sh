# SPDX-License-Identifier: GPL-3.0-or-later
# Hole 7 of issue 13, a held lock: a command blocked on a lock that another
# xoe process holds (here a `service create` stopped with SIGSTOP while it
# holds its service's lock, as a hung or slow holder would) says so at once
# on stderr, naming the holder's pid and command; with `--wait 2` it gives up
# after about 2 s with exit 4 and one line naming the resource and holder;
# `--no-wait` exits 4 at once with that line alone; the setting locks.wait
# bounds the wait without any option. The old code waited without limit and
# in silence (and knew neither option).
source "${OE_SOURCE_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}/tests/bed/bed.sh"
bed_init
source "$OE_SOURCE_DIR/tests/xoe/lib.sh"
xoe_setup

X software fetch tryton/6.0 >/dev/null
svc=lk-$XID
create=(service create "$svc" --software tryton --version 6.0 --db-backend sqlite --role test)
xoe --root "$XROOT" "${create[@]}" >"$BED_DIR/holder.out" 2>"$BED_DIR/holder.err" &
holder=$!
cont() { kill -CONT "$holder" 2>/dev/null; return 0; }
bed_on_exit cont
lockfile=$XROOT/run/oe/locks/xoe.service.$svc.lock
holds() { [[ $(cut -d' ' -f1 "$lockfile" 2>/dev/null) == "$holder" ]]; }
bed_wait 60 "the first create holds the lock of $svc" holds
kill -STOP "$holder"
holds || bed_fail "the holder let the lock go before it was stopped"

# The effect first: a command with no option that has to wait says so at
# once, naming the holder (the old code waited without a word, forever).
# xoe itself in the background, not the function X: $! must be xoe's pid, or
# the kill below stops a subshell and leaves xoe waiting, to create the
# service again once the test has removed it.
xoe --root "$XROOT" "${create[@]}" >/dev/null 2>"$BED_DIR/silent.err" &
silent=$!
sleep 1
kill -0 "$silent" 2>/dev/null || bed_fail "a waiter with no option did not wait: $(cat "$BED_DIR/silent.err")"
kill "$silent" 2>/dev/null; wait "$silent" 2>/dev/null || true
bed_assert_contains "$(cat "$BED_DIR/silent.err")" "waiting up to 300 s for the lock xoe.service.$svc, held by pid $holder" \
  "a waiter with no option, after 1 s"
bed_assert_contains "$(cat "$lockfile")" "$holder xoe --root $XROOT service create $svc" "the lock file names the holder's command"

# --wait 2: the wait is announced at once, then it gives up after 2 s.
start=$SECONDS
xoe --root "$XROOT" --wait 2 "${create[@]}" >/dev/null 2>"$BED_DIR/waiter.err" &
waiter=$!
sleep 1
kill -0 "$waiter" 2>/dev/null || bed_fail "--wait 2 did not wait: $(cat "$BED_DIR/waiter.err")"
bed_assert_contains "$(cat "$BED_DIR/waiter.err")" "waiting up to 2 s for the lock xoe.service.$svc, held by pid $holder (xoe --root $XROOT service create $svc" \
  "the wait, announced at once with the holder"
rc=0
wait "$waiter" || rc=$?
elapsed=$((SECONDS - start))
bed_assert_eq 4 "$rc" "exit code of a command that waited 2 s for a held lock"
((elapsed >= 2 && elapsed <= 6)) || bed_fail "--wait 2 gave up after $elapsed s"
err=$(cat "$BED_DIR/waiter.err")
last=$(tail -n 1 <<<"$err")
bed_assert_contains "$last" "xoe: xoe.service.$svc is locked by pid $holder (xoe --root $XROOT service create $svc" "the error names resource and holder"
bed_assert_contains "$last" "); gave up after 2 s" "the error says how long it waited"
bed_assert_eq 2 "$(wc -l <<<"$err")" "a warning and one line of error: $err"
ok "--wait 2: announced at once, exit 4 after $elapsed s with one line naming the holder"

# --no-wait: at once, one line, no warning.
start=$(date +%s%N)
xoe_expect 4 "xoe.service.$svc is locked by pid $holder (xoe --root $XROOT service create $svc" --no-wait "${create[@]}"
ms=$((($(date +%s%N) - start) / 1000000))
((ms < 1500)) || bed_fail "--no-wait took $ms ms"
ok "--no-wait: exit 4 at once ($ms ms) with one line"

# The setting alone bounds the wait (no option given).
start=$SECONDS
rc=0
OE_XOE_LOCKS_WAIT=1 X "${create[@]}" >/dev/null 2>"$BED_DIR/set.err" || rc=$?
bed_assert_eq 4 "$rc" "exit code with locks.wait = 1"
((SECONDS - start <= 5)) || bed_fail "locks.wait = 1 waited $((SECONDS - start)) s"
bed_assert_contains "$(cat "$BED_DIR/set.err")" "gave up after 1 s" "locks.wait = 1"
bed_assert_eq "locks.wait 7 --set" "$(X --wait 7 config show | awk '$1 == "locks.wait" {print $1, $2, $3}')" "config show of --wait"
ok "locks.wait bounds the wait of a command given no option"

# The holder goes on once it runs again, and the lock is free after it.
kill -CONT "$holder"
rc=0
wait "$holder" || rc=$?
bed_assert_eq 0 "$rc" "the held create finished ($(cat "$BED_DIR/holder.err"))"
[[ ! -s $lockfile ]] || bed_fail "the lock file still names a holder: $(cat "$lockfile")"
X --no-wait service remove "$svc" >/dev/null
ok "the holder finished; the lock is free"
