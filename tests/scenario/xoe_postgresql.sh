# SPDX-License-Identifier: GPL-3.0-or-later
# xoe's own PostgreSQL cluster and the services' own roles: with
# database.host empty, xoe creates a cluster under its root (initdb as
# postgres), runs it under runit, and each service connects with its own
# role and password. One customer's server cannot reach another's database,
# nor the superuser, nor a template; no role password is in a command line,
# a log or a backup; the cluster survives a kill and a supervisor restart;
# remove drops the role; a taken port is refused with exit 6, a root too
# long for the socket path with exit 2.
source "${OE_SOURCE_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}/tests/bed/bed.sh"
bed_init
source "$OE_SOURCE_DIR/tests/xoe/lib.sh"
xoe_setup   # no bed_postgres: database.host stays empty
PGP=$OE_XOE_DATABASE_CLUSTER_PORT
DATA=$XROOT/var/lib/postgresql/oe-xoe
SOCK=$DATA   # its socket, in its data folder (0700 postgres)
# xoe's own connection: root over the socket, mapped to the superuser (peer).
Q() { psql -X -A -t -F ' ' -h "$SOCK" -p "$PGP" -U postgres "$@"; }

X software fetch tryton/7.0 >/dev/null
a=a-$XID b=b-$XID
t0=$SECONDS
outa=$(X service create "$a" --software tryton --version 7.0 --json)
ok "create $a (cluster created, template built) in $((SECONDS - t0)) s"
outb=$(X service create "$b" --software tryton --version 7.0 --json)
pwa=$(xoe_json 'd["service"]["admin_password"]' <<<"$outa")
pwb=$(xoe_json 'd["service"]["admin_password"]' <<<"$outb")
porta=$(X service show "$a" --json | xoe_json 'd["service"]["port"]')
portb=$(X service show "$b" --json | xoe_json 'd["service"]["port"]')
bed_assert_eq 1 "$(xoe_login "$porta" "$a" admin "$pwa")" "login $a"
bed_assert_eq 1 "$(xoe_login "$portb" "$b" admin "$pwb")" "login $b"
bed_assert_eq postgresql "$(X service show "$a" --json | xoe_json 'd["service"]["backend"]')" "default backend"

# The cluster: under the root, the user postgres's, supervised by runit, on 127.0.0.1 only.
bed_assert_eq "700 postgres" "$(stat -c '%a %U' "$DATA")" "data folder"
[[ -f $DATA/PG_VERSION ]] || bed_fail "no cluster in $DATA"
pm=$(head -1 "$DATA/postmaster.pid")
bed_assert_eq postgres "$(stat -c %U "/proc/$pm")" "postmaster's user"
bed_assert_eq runsv "$(cat "/proc/$(awk '{print $4}' "/proc/$pm/stat")/comm")" "postmaster's parent"
bed_assert_eq "127.0.0.1:$PGP" "$(ss -Htln "sport = :$PGP" | awk '{print $4}' | sort -u | tr '\n' ' ' | sed 's/ $//')" "listening address"
ok "own cluster: $DATA, user postgres, under runsv, 127.0.0.1:$PGP"

# Each service has its own role, owner of its database and of every table in it.
bed_assert_eq "xoe-$a xoe-$b xoe-template" "$(Q -c "select string_agg(rolname, ' ' order by rolname) from pg_roles where rolname like 'xoe-%'")" "roles"
bed_assert_eq "false false false" "$(Q -c "select string_agg(rolsuper::text, ' ') from pg_roles where rolname like 'xoe-%'")" "no role is superuser"
bed_assert_eq "xoe-$a" "$(Q -c "select pg_get_userbyid(datdba) from pg_database where datname = '$a'")" "owner of $a"
bed_assert_eq 0 "$(Q -d "$a" -c "select count(*) from pg_class c join pg_namespace n on n.oid = c.relnamespace where n.nspname = 'public' and c.relowner <> 'xoe-$a'::regrole")" "objects of $a not its role's"
bed_assert_eq "" "$(Q -c "select datname from pg_database where datname in ('$a', '$b') and has_database_privilege('public', oid, 'connect')")" "PUBLIC may connect"
ok "roles: one per service, owner of its database and tables, PUBLIC shut out"

# Isolation, tried as A's own system user with A's password.
pa=$(head -1 "$XROOT/var/lib/oe/xoe/services/$a/db-password")
pb=$(head -1 "$XROOT/var/lib/oe/xoe/services/$b/db-password")
[[ ${#pa} -ge 20 && $pa != "$pb" ]] || bed_fail "role passwords"
bed_assert_eq "600 root" "$(stat -c '%a %U' "$XROOT/var/lib/oe/xoe/services/$a/db-password")" "role password file"
as_a() { bed_as "xoe-$a" env PGPASSWORD="$1" PGCONNECT_TIMEOUT=5 psql -w -X -A -t "${@:2}" 2>&1; }
bed_assert_eq 1 "$(as_a "$pa" -h 127.0.0.1 -p "$PGP" -U "xoe-$a" -d "$a" -c "select count(*) from res_user where login = 'admin'")" "A in its own database"
bed_assert_contains "$(as_a "$pa" -h 127.0.0.1 -p "$PGP" -U "xoe-$a" -d "$b" -c 'select 1')" "permission denied for database" "A into B's database"
tpl=$(Q -c "select datname from pg_database where datname like 'xoe-tpl-%' limit 1")
bed_assert_contains "$(as_a "$pa" -h 127.0.0.1 -p "$PGP" -U "xoe-$a" -d "$tpl" -c 'select 1')" "permission denied for database" "A into a template"
bed_assert_contains "$(as_a "$pa" -h 127.0.0.1 -p "$PGP" -U "xoe-$b" -d "$b" -c 'select 1')" "password authentication failed" "A as B's role"
bed_assert_contains "$(as_a "" -h 127.0.0.1 -p "$PGP" -U postgres -d postgres -c 'select 1')" "rejects connection" "A as the superuser over TCP"
# The socket is in the data folder, out of A's reach; and pg_hba.conf lets
# only root and postgres in over it, as the superuser (peer), nobody else.
bed_assert_contains "$(as_a "" -h "$SOCK" -p "$PGP" -U postgres -d postgres -c 'select 1')" "Permission denied" "A as the superuser over the socket"
bed_assert_contains "$(bed_as postgres psql -w -X -A -t -h "$SOCK" -p "$PGP" -U postgres -d postgres -c 'select 1' 2>&1)" "1" "postgres over the socket (peer)"
bed_assert_contains "$(bed_as postgres env PGPASSWORD="$pa" psql -w -X -A -t -h "$SOCK" -p "$PGP" -U "xoe-$a" -d "$a" -c 'select 1' 2>&1)" "rejects connection" "A's role over the socket"
bed_as "xoe-$a" cat "$XROOT/var/lib/oe/xoe/services/$b/trytond.conf" >/dev/null 2>&1 && bed_fail "A reads B's config"
bed_as "xoe-$a" cat "$XROOT/var/lib/oe/xoe/services/$b/db-password" >/dev/null 2>&1 && bed_fail "A reads B's role password"
ok "isolation: A reaches its own database only (not B's, not a template, not as B, not as the superuser)"

# No role password on a command line, in xoe's logs, the server's log or a backup.
for p in /proc/[0-9]*; do
  if tr '\0' ' ' <"$p/cmdline" 2>/dev/null | grep -qF -e "$pa" -e "$pb"; then bed_fail "a role password on the command line of $p"; fi
done
! grep -rqF -e "$pa" -e "$pb" "$XROOT/var/log" || bed_fail "a role password in a log"
arch=$(X backup "$a" --json | xoe_json 'd["backup"]["archive"]')
bed_assert_contains "$(tar --zstd -xOf "$arch" config/trytond.conf)" "postgresql://xoe-$a:(password of the role)@" "the archived config"
! tar --zstd -xOf "$arch" | grep -aqF "$pa" || bed_fail "the role password in the backup"
ok "role passwords: on no command line, in no log, not in the backup"

# Restore: the database comes back owned by the service's role; the service works.
Q -d "$a" -q -c "update res_user set name = 'Changed' where login = 'admin'"
X restore "$a" "$arch" >/dev/null
bed_assert_eq 1 "$(xoe_login "$porta" "$a" admin "$pwa")" "login after restore"
bed_assert_eq "Administrator 0" "$(Q -d "$a" -c "select (select name from res_user where login = 'admin'), (select count(*) from pg_class c join pg_namespace n on n.oid = c.relnamespace where n.nspname = 'public' and c.relowner <> 'xoe-$a'::regrole)")" "restored data and owners"
ok "restore: data back, every object the role's"

# The cluster is supervised: killed, it comes back; the services answer again.
kill -9 "$pm"
bed_wait 60 "the cluster back" bash -c "[[ -f '$DATA/postmaster.pid' && \$(head -1 '$DATA/postmaster.pid') != $pm ]] && pg_isready -q -h '$SOCK' -p $PGP"
bed_wait 60 "$a answering after the cluster's restart" xoe_login "$porta" "$a" admin "$pwa"
ok "kill -9 of the postmaster: runit restarted it, $a logs in"

# A whole supervisor stop and start (a reboot of the vserver).
X supervisor stop >/dev/null
! pg_isready -q -h "$SOCK" -p "$PGP" || bed_fail "the cluster runs after supervisor stop"
[[ -z $(pgrep -u postgres -f -- "-D $DATA") ]] || bed_fail "a postgres process of the cluster left"
X supervisor start >/dev/null
bed_wait 60 "$b answering after supervisor start" xoe_login "$portb" "$b" admin "$pwb"
ok "supervisor stop and start: cluster and services back"

# A second root whose cluster would need the same port: exit 6, nothing made.
R2=$BED_DIR/root2
mkdir -p "$R2"
xoe --root "$R2" software fetch tryton/7.0 >/dev/null
rc=0; err=$(xoe --root "$R2" service create "c-$XID" --software tryton --version 7.0 2>&1 >/dev/null) || rc=$?
bed_assert_eq 6 "$rc" "create with the cluster's port taken ($err)"
bed_assert_contains "$err" "port $PGP on 127.0.0.1 is taken" "message"
[[ $(wc -l <<<"$err") == 1 ]] || bed_fail "more than one line: $err"
bed_assert_eq 0 "$(xoe --root "$R2" service list --json | xoe_json 'len(d["services"])')" "services of the second root"
! id "xoe-c-$XID" >/dev/null 2>&1 || bed_fail "a user made for the refused service"
xoe --root "$R2" supervisor stop >/dev/null 2>&1 || true
ok "a taken port: exit 6, one line"

# Remove: the role goes with the database.
X service remove "$a" >/dev/null
bed_assert_eq 0 "$(Q -c "select count(*) from pg_roles where rolname = 'xoe-$a'")" "role of $a after remove"
bed_assert_eq 0 "$(Q -c "select count(*) from pg_database where datname = '$a'")" "database of $a after remove"
bed_assert_eq 1 "$(xoe_login "$portb" "$b" admin "$pwb")" "$b after removing $a"
ok "remove drops the role; the other service is untouched"

# A root so long that the cluster's socket path would not fit in sun_path
# (107 characters): refused before anything is made, one line, exit 2.
long=$BED_DIR/$(printf 'l%.0s' {1..80})
mkdir -p "$long"
xoe --root "$long" software fetch tryton/7.0 >/dev/null
rc=0
err=$(xoe --root "$long" service create "l-$XID" --software tryton --version 7.0 2>&1 >/dev/null) || rc=$?
bed_assert_eq 2 "$rc" "exit code of a create on a too long root ($err)"
bed_assert_contains "$err" "is too long for xoe's PostgreSQL cluster" "message"
[[ $(wc -l <<<"$err") == 1 ]] || bed_fail "more than one line: $err"
[[ ! -e $long/var/lib/postgresql ]] || bed_fail "a cluster folder was made under the long root"
bed_assert_eq 0 "$(xoe --root "$long" service list --json | xoe_json 'len(d["services"])')" "services of the long root"
! getent passwd "xoe-l-$XID" >/dev/null || bed_fail "user xoe-l-$XID made"
ok "a root too long for the cluster's socket: exit 2, one line, nothing made"
