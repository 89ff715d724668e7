#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# One database disseminated to XOE_BENCH_STUDENTS students (30), against as
# many sequential `pg_dump -Fc | pg_restore` of the same database into fresh
# databases made with createdb, side by side in one run on a private
# PostgreSQL 15 (tests/bed/bed.sh). The reference is a Tryton 7.0 service
# of role student (the copies of a production would be served by its
# training service, which the bench does not make) with the modules XOE_BENCH_MODULES (party,company: with currency and
# country, about 190 tables). `xoe students disseminate` does more than the
# dumps: it stops and starts the service (waiting for its probe), neutralises
# each copy and creates each student's user (one password hash each). Both
# start from a checkpointed server and a flushed page cache, and each is
# timed until its writes are on the disk (CHECKPOINT, sync); each side runs
# twice (dumps, xoe, xoe, dumps) and counts the mean. Prints the seconds of
# both and the ratio (goal: at least 10). The server is the test bed's,
# without fsync (as the tests run it); BED_PG_DURABLE=1 runs it with
# PostgreSQL's defaults (fsync on), as a production server. Needs root, xoe
# built (OE_BUILD_DIR, default ./build) and Tryton 7.0's packages reachable
# or in OE_TEST_CACHE. Usage: bench/xoe-students-bench.sh
set -euo pipefail
export OE_SOURCE_DIR=${OE_SOURCE_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
export PATH=${OE_BUILD_DIR:-$OE_SOURCE_DIR/build}/bin:$PATH
students=${XOE_BENCH_STUDENTS:-30}
modules=${XOE_BENCH_MODULES-party,company}
source "$OE_SOURCE_DIR/tests/bed/bed.sh"
bed_init
source "$OE_SOURCE_DIR/tests/xoe/lib.sh"
bed_postgres
xoe_setup
now() { date +%s.%N; }
elapsed() { echo "$(now) - $1" | bc; }

echo "bench: Tryton 7.0 reference service (modules: ${modules:-none}), built once" >&2
X software fetch tryton/7.0 >/dev/null
ref=bench-$XID
X service create "$ref" --software tryton --version 7.0 --db-backend postgresql --role student ${modules:+--modules "$modules"} >/dev/null
echo "bench: server: $(psql -X -A -t -c "select 'fsync ' || current_setting('fsync') || ', synchronous_commit ' || current_setting('synchronous_commit')")" >&2
echo "bench: reference database: $(psql -X -A -t -c "select pg_size_pretty(pg_database_size('$ref'))"), $(psql -X -A -t -d "$ref" -c "select count(*) from pg_tables where schemaname = 'public'") tables" >&2

# Each side starts from a checkpointed server and a page cache without dirty
# pages (sync), and is timed until its own writes are on the disk (sync):
# with STRATEGY FILE_COPY the copies ask for checkpoints, which would
# otherwise flush the dumps' writes, and the kernel would make the second
# side pay for the first one's writeback. The disk under a virtual machine
# still drifts (its host writes back later, and throttles long bursts), so
# each side runs twice, in the order dumps, xoe, xoe, dumps, and each side's
# time is the mean of its two runs.
settle() { psql -X -q -c CHECKPOINT; sync; }
dump_side() { # TAG
  local t i
  settle
  t=$(now)
  for i in $(seq -w 1 "$students"); do
    createdb "dump-$1-$i"
    pg_dump -Fc "$ref" | pg_restore --no-owner -d "dump-$1-$i"
  done
  settle
  elapsed "$t"
}
xoe_side() { # GROUP
  local t
  settle
  t=$(now)
  X students disseminate "$ref" --group "$1" --students "$students" --json >"$BED_DIR/students-$1.json"
  settle
  elapsed "$t"
  echo "bench: xoe's steps for group $1 (s): $(sqlite3 -separator ' ' "$XROOT/var/lib/oe/xoe/xoe.db" \
    "SELECT s.name, printf('%.2f', (s.finished - s.started) / 1000.0) FROM job_step s JOIN job j ON j.id = s.job_id
     WHERE j.kind = 'students.disseminate' AND j.key = 'group:$1' ORDER BY s.idx" | paste -sd' ')" >&2
}
dump1=$(dump_side a)
xoe1=$(xoe_side one)
xoe2=$(xoe_side two)
dump2=$(dump_side b)
echo "bench: runs (s): dumps $dump1, xoe $xoe1, xoe $xoe2, dumps $dump2" >&2
dump=$(echo "($dump1 + $dump2) / 2" | bc -l)
xoe=$(echo "($xoe1 + $xoe2) / 2" | bc -l)
for g in one two; do
  n=$(xoe_json 'len(d["students"]["students"])' <"$BED_DIR/students-$g.json")
  [[ $n == "$students" ]] || bed_fail "disseminate made $n databases for group $g"
done
# The result is real: the last student logs into their copy.
last=$(xoe_json 'd["students"]["students"][-1]["login"]+" "+d["students"]["students"][-1]["database"]' <"$BED_DIR/students-two.json")
xoe_login "$(X service show "$ref" --json | xoe_json 'd["service"]["port"]')" "${last#* }" "${last% *}" \
  "$(xoe_json 'd["students"]["students"][-1]["password"]' <"$BED_DIR/students-two.json")" >/dev/null

printf '%d x pg_dump -Fc | pg_restore   %7.2f s\n' "$students" "$dump"
printf 'xoe students disseminate (%d)   %7.2f s\n' "$students" "$xoe"
ratio=$(echo "$dump / $xoe" | bc -l)
printf 'ratio %.1f     goal >= 10: %s\n' "$ratio" \
  "$(awk -v r="$ratio" 'BEGIN { print (r >= 10 ? "goal met" : "goal NOT met") }')"
