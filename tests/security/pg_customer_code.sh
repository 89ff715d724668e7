# SPDX-License-Identifier: GPL-3.0-or-later
# Attack test: a customer's code never runs as the PostgreSQL superuser.
# Customer alpha (its own role, owner of its database, as its server is)
# plants code where xoe's own sessions would meet it, then xoe does its
# usual work on alpha's database:
#   - monitor: views shadowing res_user and ir_session in a schema named
#     "postgres" (first in the superuser's search_path) and in one named
#     after alpha's role;
#   - a copy into alpha's training (hand-over of the objects): a function
#     public.format(text, name, name), a better match than pg_catalog's
#     format(text, VARIADIC "any") for any session with public in its path;
#   - the neutralisation: a trigger on ir_cron;
#   - backup verify and restore of alpha's own archive: a CHECK constraint,
#     an index expression and a default calling alpha's function;
#   - an event trigger only a superuser could have put in a dump.
# The planted function tries `COPY ... TO PROGRAM` (a shell command as the
# OS user postgres, which owns every cluster of the host: a superuser's
# privilege) and leaves a WARNING with the role it runs as in the server's
# log. Then: no command ran, every call was made by a role that is not a
# superuser, and the neutralisation's call shows the channel works. Last,
# the archives are authenticated: a changed (valid) archive with a fresh sha256,
# and one without its MAC, are refused (2) unless --trust.
source "${OE_SOURCE_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}/tests/bed/bed.sh"
bed_init
source "$OE_SOURCE_DIR/tests/xoe/lib.sh"
xoe_setup   # database.host empty: xoe's own cluster, as a customer's vserver has
PGP=$OE_XOE_DATABASE_CLUSTER_PORT
DATA=$XROOT/var/lib/postgresql/oe-xoe
Q() { psql -X -A -t -q -h "$DATA" -p "$PGP" -U postgres "$@"; }
SERVER_LOG=$XROOT/var/log/oe/xoe/_postgresql/current
MARKS=$(mktemp -d /tmp/oe-marks.XXXXXX)
chmod 1777 "$MARKS"
bed_on_exit rm -rf "$MARKS"

X software fetch tryton/7.0 >/dev/null
alpha=alpha-$XID
X service create "$alpha" --software tryton --version 7.0 --role production >/dev/null
X service create "$alpha-training" --software tryton --version 7.0 --role training >/dev/null
ok "alpha and its training on xoe's own cluster"

# alpha acts with what it has: its role and password (its server's config holds them).
PASS=$BED_DIR/alpha.pgpass
printf '127.0.0.1:%s:*:xoe-%s:%s\n' "$PGP" "$alpha" "$(head -1 "$XROOT/var/lib/oe/xoe/services/$alpha/db-password")" >"$PASS"
chmod 600 "$PASS"
as_alpha() { PGPASSFILE=$PASS psql -w -X -A -t -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PGP" -U "xoe-$alpha" -d "$alpha" "$@"; }
as_alpha <<SQL
CREATE FUNCTION public.oe_spy(what text) RETURNS boolean LANGUAGE plpgsql AS \$f\$
BEGIN
  RAISE WARNING 'oe-spy % as % super %', what, current_user,
    (SELECT rolsuper FROM pg_catalog.pg_roles WHERE rolname = current_user);
  BEGIN
    EXECUTE pg_catalog.format('COPY (SELECT %L) TO PROGRAM %L', what || ' ' || current_user, 'cat >> $MARKS/' || what);
  EXCEPTION WHEN OTHERS THEN NULL;
  END;
  RETURN true;
END \$f\$;
CREATE FUNCTION public.oe_spy_imm(what text) RETURNS boolean LANGUAGE sql IMMUTABLE AS 'SELECT public.oe_spy(what)';
CREATE FUNCTION public.oe_spy_trigger() RETURNS trigger LANGUAGE plpgsql AS \$f\$
BEGIN PERFORM public.oe_spy(TG_ARGV[0]); RETURN NULL; END \$f\$;
-- monitor
CREATE SCHEMA postgres;
CREATE VIEW postgres.res_user AS SELECT id, active FROM public.res_user WHERE public.oe_spy('monitor');
CREATE VIEW postgres.ir_session AS SELECT create_date FROM public.ir_session WHERE public.oe_spy('monitor');
CREATE SCHEMA "xoe-$alpha";
CREATE VIEW "xoe-$alpha".res_user AS SELECT id, active FROM public.res_user WHERE public.oe_spy('monitor-user');
-- hand-over of a copy
CREATE FUNCTION public.format(text, name, name) RETURNS text LANGUAGE sql
  AS 'SELECT CASE WHEN public.oe_spy(''format'') THEN pg_catalog.format(\$1, \$2, \$3) END';
-- neutralisation
CREATE TRIGGER oe_spy AFTER UPDATE ON public.ir_cron FOR EACH STATEMENT EXECUTE FUNCTION public.oe_spy_trigger('neutralise');
-- a dump's restore
CREATE TABLE public.oe_trap (x int CHECK (public.oe_spy('check')), y boolean DEFAULT public.oe_spy('default'));
CREATE INDEX oe_trap_index ON public.oe_trap ((public.oe_spy_imm('index' || x::text)));
INSERT INTO public.oe_trap (x) VALUES (1);
SQL
ok "alpha planted its code (as its own role)"

spied() { grep -ao "oe-spy $1 as [^ ]* super [tf]" "$SERVER_LOG" | sort -u; }
no_superuser() {
  local seen
  seen=$(grep -ao 'oe-spy [^ ]* as [^ ]* super t' "$SERVER_LOG" | sort -u || true)
  [[ -z $seen ]] || bed_fail "alpha's code ran as a superuser: $seen"
  [[ -z $(ls -A "$MARKS") ]] || bed_fail "alpha's COPY TO PROGRAM ran: $(head -c 300 "$MARKS"/*)"
}

# 1. monitor: the usage of alpha is read by alpha's role, from public, read-only.
users=$(X monitor --json | xoe_json "[x for x in d['services'] if x['name'] == '$alpha'][0]['users']")
bed_assert_eq "$(as_alpha -c 'select count(*) from public.res_user where active and id > 0')" "$users" "users of alpha"
no_superuser
bed_assert_eq "" "$(spied monitor)" "shadowing views read by monitor"
ok "monitor: the shadowing views were not read, nothing ran as the superuser"
# Tryton itself takes a database with a second res_user for none of its own
# (information_schema.tables counts them): alpha removes its views again.
as_alpha -c 'DROP VIEW postgres.res_user, postgres.ir_session, "xoe-'"$alpha"'".res_user'

# 2. a copy into alpha's training: hand-over and neutralisation.
X db copy "$alpha" "$alpha-training" >/dev/null
no_superuser
bed_assert_contains "$(spied neutralise)" "oe-spy neutralise as xoe-$alpha-training super f" "the neutralisation's trigger, run by the training's role"
bed_assert_eq 0 "$(Q -d "$alpha-training" -c "select count(*) from pg_class c join pg_namespace n on n.oid = c.relnamespace where n.nspname in ('public', 'postgres') and c.relkind in ('r', 'v') and c.relowner <> 'xoe-$alpha-training'::regrole")" "objects of the copy not the training's"
bed_assert_eq 0 "$(Q -c "select count(*) from pg_roles where rolname like 'xoe-handover-%'")" "hand-over roles left"
ok "db copy: handed over and neutralised without the superuser inside (format shadow $(spied format | wc -l) call(s), none as superuser)"

# 3. alpha's own backup: verify and restore run its CHECK and index expressions as a role that is not a superuser.
arch=$(X backup "$alpha" --json | xoe_json 'd["backup"]["archive"]')
[[ -f $arch.mac ]] || bed_fail "no MAC beside $arch"
verify=$(X backup verify "$arch" --json)
bed_assert_eq True "$(xoe_json 'd["verify"]["ok"]' <<<"$verify")" "verify of alpha's archive ($(xoe_json 'd["verify"]["error"]' <<<"$verify"))"
no_superuser
bed_assert_contains "$(spied check)" "super f" "the CHECK constraint ran during the restore, not as a superuser"
bed_assert_contains "$(grep -ao 'oe-spy index1 as [^ ]* super [tf]' "$SERVER_LOG" | sort -u)" "super f" "the index expression"
X restore "$alpha" "$arch" --as "$alpha-copy" --role test >/dev/null
no_superuser
bed_assert_eq 1 "$(Q -d "$alpha-copy" -c 'select count(*) from public.oe_trap')" "the restored trap table"
bed_assert_eq "xoe-$alpha-copy" "$(Q -c "select pg_get_userbyid(datdba) from pg_database where datname = '$alpha-copy'")" "owner of the restored database"
bed_assert_eq 0 "$(Q -d "$alpha-copy" -c "select count(*) from pg_class c join pg_namespace n on n.oid = c.relnamespace where n.nspname = 'public' and c.relowner <> 'xoe-$alpha-copy'::regrole")" "restored objects not the role's"
ok "backup verify and restore: alpha's CHECK and index ran as the restoring role, not the superuser"

# 4. an event trigger in a dump (a superuser's object: a forged dump, as from another host).
Q -d "$alpha" <<'SQL'
CREATE FUNCTION public.oe_spy_event() RETURNS event_trigger LANGUAGE plpgsql AS $f$
BEGIN PERFORM public.oe_spy('event'); END $f$;
CREATE EVENT TRIGGER oe_spy_event ON ddl_command_end EXECUTE FUNCTION public.oe_spy_event();
SQL
arch2=$(X backup "$alpha" --json | xoe_json 'd["backup"]["archive"]')
Q -d "$alpha" -c 'DROP EVENT TRIGGER oe_spy_event'
rc=0; err=$(X restore "$alpha" "$arch2" --as "$alpha-evt" 2>&1 >/dev/null) || rc=$?
bed_assert_eq 5 "$rc" "restore of a dump with an event trigger ($err)"
bed_assert_contains "$err" "event trigger" "message"
[[ $(wc -l <<<"$err") == 1 ]] || bed_fail "more than one line: $err"
bed_assert_eq 0 "$(X service list --json | xoe_json "len([x for x in d['services'] if x['name'] == '$alpha-evt'])")" "service left by the refused restore"
bed_assert_eq 0 "$(Q -c "select count(*) from pg_database where datname like 'xoe-new-%' or datname = '$alpha-evt'")" "databases left by the refused restore"
no_superuser
ok "an event trigger in a dump: the restore as the role is refused (5), nothing left"

# 5. archives are authenticated by this root's key, not by the sha256 beside them.
arch=$(X backup "$alpha" --json | xoe_json 'd["backup"]["archive"]')  # the retention pruned the older ones
fake=$BED_DIR/forged
mkdir -p "$fake"
cp "$arch" "$arch.sha256" "$fake/"
f=$fake/$(basename "$arch")
# A real forgery, a valid archive whose content changed (the old code
# restored it, exit 0): unpacked, the admin's name changed in its dump,
# packed again, a fresh sha256 beside it.
mkdir "$fake/tree"
tar --zstd -xf "$arch" -C "$fake/tree"
/usr/bin/python3 - "$fake/tree/metadata.json" <<'PY'
import json, sys
m = json.load(open(sys.argv[1]))
m["created"] = "2024-01-01T00:00:00Z"
json.dump(m, open(sys.argv[1], "w"))
PY
rm -f "$f"
# shellcheck disable=SC2046 # the members' names have no spaces
tar --zstd -cf "$f" -C "$fake/tree" $(ls -A "$fake/tree")
rm -rf "$fake/tree"
(cd "$fake" && sha256sum "$(basename "$f")" >"$(basename "$f").sha256")
cp "$arch.mac" "$fake/"
xoe_expect 2 "is not authenticated" restore "$alpha" "$f" --as "$alpha-forged"
rm "$f.mac"
xoe_expect 2 "has no $(basename "$f").mac" restore "$alpha" "$f" --as "$alpha-forged"
xoe_expect 2 "is not authenticated" backup verify "$f"
bed_assert_eq 0 "$(X service list --json | xoe_json "len([x for x in d['services'] if x['name'] == '$alpha-forged'])")" "service made from a forged archive"
# The original without its MAC (an archive from another host): only with --trust.
cp "$arch" "$arch.sha256" "$fake/"
rm -f "$fake/$(basename "$arch").mac"
xoe_expect 2 "is not authenticated" restore "$alpha" "$fake/$(basename "$arch")" --as "$alpha-foreign"
X restore "$alpha" "$fake/$(basename "$arch")" --as "$alpha-foreign" --role test --trust >/dev/null
no_superuser
ok "archives: a changed one with a fresh sha256 and one without its MAC refused (2); --trust restores it, still as the role"
