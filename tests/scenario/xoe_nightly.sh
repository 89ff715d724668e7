# SPDX-License-Identifier: GPL-3.0-or-later
# The nightly job on the real thing (Tryton 7.0 on SQLite): xoe nightly backs
# up production, test and a training service that has no production (not
# the training of the production), then refreshes the production's training
# from production's backup of the night: a record made in production that day
# is in the training, neutralised, which logs in with its own password. A
# night whose backups fail (the backup folder unwritable) exits 5 with its
# answer, and leaves the training as it was. xoe self-install writes the cron
# file that runs it (root 0644 in ROOT/etc/cron.d); its command line, run as
# cron would, does the night's work; a bad nightly.schedule is refused.
source "${OE_SOURCE_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}/tests/bed/bed.sh"
bed_init
source "$OE_SOURCE_DIR/tests/xoe/lib.sh"
xoe_setup
T0=$SECONDS

X software fetch tryton/7.0 >/dev/null
n=n$XID
ppw=$(xoe_create "$n-production" 7.0 sqlite production)
tpw=$(xoe_create "$n-training" 7.0 sqlite training)
xoe_create "$n-test" 7.0 sqlite test >/dev/null
xoe_create "o$XID-training" 7.0 sqlite training >/dev/null
port() { X service show "$1" --json | xoe_json 'd["service"]["port"]'; }
pport=$(port "$n-production") tport=$(port "$n-training")
ok "production, training and test (7.0, SQLite) in $((SECONDS - T0)) s"
data() { echo "$XROOT/var/lib/oe/xoe/services/$1/data/$1.sqlite"; }
count() { sqlite3 "$(data "$1")" "select count(*) from res_group where name = '$2'"; }

# ---------------------------------------------------------------- a night
xoe_rpc "$pport" "$n-production" admin "$ppw" model.res.group.create '[[{"name": "made-today"}]]' >/dev/null
bed_assert_eq 0 "$(count "$n-training" made-today)" "the training before the night"
out=$(X nightly --json)
bed_assert_eq "backup $n-production True|backup $n-test True|backup o$XID-training True|refresh $n-training True" \
  "$(xoe_json '"|".join(s["action"]+" "+s["service"]+" "+str(s["ok"]) for s in d["nightly"]["steps"])' <<<"$out")" "the night's steps"
bed_assert_eq True "$(xoe_json 'd["nightly"]["ok"]' <<<"$out")" "nightly ok"
archive=$(X backup list "$n-production" --json | xoe_json 'd["backups"][0]["archive"]')
bed_assert_eq "$archive" "$(xoe_json '[s["archive"] for s in d["nightly"]["steps"] if s["action"] == "refresh"][0]' <<<"$out")" "the training is refreshed from tonight's backup"
bed_assert_eq 1 "$(X backup list "$n-test" --json | xoe_json 'len(d["backups"])')" "the test service is backed up"
bed_assert_eq 0 "$(X backup list "$n-training" --json | xoe_json 'len(d["backups"])')" "the training is not backed up"
bed_assert_eq 1 "$(count "$n-training" made-today)" "production's record of the day in the training"
bed_assert_eq 0 "$(sqlite3 "$(data "$n-training")" "select count(*) from ir_cron where active")" "crons off in the training"
bed_assert_eq 1 "$(xoe_login "$tport" "$n-training" admin "$tpw")" "the training logs in with its own password"
bed_assert_eq 1 "$(xoe_login "$pport" "$n-production" admin "$ppw")" "production after the night"
ok "a night: production and test backed up, the training refreshed from production's backup ($((SECONDS - T0)) s)"

# ---------------------------------------------------------------- a night whose backups fail
xoe_rpc "$pport" "$n-production" admin "$ppw" model.res.group.create '[[{"name": "made-tomorrow"}]]' >/dev/null
touch "$BED_DIR/afile"
rc=0
out=$(OE_XOE_BACKUP_DIR=$BED_DIR/afile/backups X nightly --json 2>"$BED_DIR/err") || rc=$?
bed_assert_eq 5 "$rc" "exit code of a night whose backups fail"
bed_assert_eq "False False False False" "$(xoe_json '" ".join(str(s["ok"]) for s in d["nightly"]["steps"])' <<<"$out")" "every step failed"
bed_assert_contains "$(xoe_json '[s["error"] for s in d["nightly"]["steps"] if s["action"] == "refresh"][0]' <<<"$out")" \
  "not refreshed: the backup of $n-production failed" "why the training was not refreshed"
bed_assert_eq "0 1" "$(count "$n-training" made-tomorrow) $(count "$n-training" made-today)" "the training as it was"
bed_assert_eq 1 "$(xoe_login "$tport" "$n-training" admin "$tpw")" "the training still logs in"
ok "a night whose backups fail: exit 5 with the answer, the training left as it was"

# ---------------------------------------------------------------- the cron file
X self-install tryton/7.0 >/dev/null
cron=$XROOT/etc/cron.d/oe-xoe
bed_assert_eq "644 root" "$(stat -c '%a %U' "$cron")" "the cron file's mode and owner"
line=$(grep -v '^#' "$cron" | grep ' root ')
bed_assert_eq "30 2 * * * root $(command -v xoe) --root $XROOT -q nightly" "$line" "the cron line"
grep -qx 'SHELL=/bin/sh' "$cron" || bed_fail "the cron file sets no SHELL"
# Run as cron would: the command after the five time fields and the user.
read -r -a argv <<<"$(cut -d' ' -f7- <<<"$line")"
env -i PATH=/usr/bin:/bin "${argv[@]}"
bed_assert_eq 1 "$(count "$n-training" made-tomorrow)" "the cron line's night refreshed the training"
X --set 'nightly.schedule=15 3 * * 1-5' self-install tryton/7.0 >/dev/null
bed_assert_contains "$(cat "$cron")" "15 3 * * 1-5 root " "nightly.schedule in the cron file"
before=$(cat "$cron")
xoe_expect 2 "five crontab time fields" --set 'nightly.schedule=* * * * * rm -rf /' self-install tryton/7.0
bed_assert_eq "$before" "$(cat "$cron")" "the cron file after the refused schedule"
ok "self-install writes the cron file; its line does the night's work; a bad schedule is refused (2)"

for s in "$n-production" "$n-training" "$n-test" "o$XID-training"; do X service remove "$s" >/dev/null; done
ok "all in $((SECONDS - T0)) s"
