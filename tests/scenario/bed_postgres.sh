# SPDX-License-Identifier: GPL-3.0-or-later
# The bed's private PostgreSQL cluster answers real queries over its socket and TCP.
source "${OE_SOURCE_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}/tests/bed/bed.sh"
bed_init
bed_postgres

psql -v ON_ERROR_STOP=1 -q -c 'create table t (id int primary key, name text)' \
  -c "insert into t values (1, 'one'), (2, 'two words')"
out=$(psql -X -A -t -c 'select name from t order by id')
bed_assert_eq $'one\ntwo words' "$out" "select over the socket"
out=$(psql -X -A -t -h 127.0.0.1 -c 'select count(*) from t')
bed_assert_eq 2 "$out" "select over TCP"
out=$(psql -X -A -t -c 'show data_directory')
bed_assert_eq "$BED_PG_DATA" "$out" "data directory"
bed_log "ok: postgres"
