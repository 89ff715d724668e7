# SPDX-License-Identifier: GPL-3.0-or-later
# The test bed: real services in a temporary folder, always stopped afterwards.
#
# Source it from a scenario script, then call bed_init first:
#   source "$OE_SOURCE_DIR/tests/bed/bed.sh"
#   bed_init
#   bed_postgres; psql -c 'select 1'
# Every service registers its own cleanup; the EXIT trap runs them in reverse
# order (even when the test fails), kills whatever still refers to $BED_DIR,
# reports leftovers (they fail the test) and removes $BED_DIR (BED_KEEP=1
# keeps it). A test killed outright (SIGKILL) is cleaned up by the next
# bed_init. Call the bed_* service functions from the main shell, not from a
# $(...) or ( ... ) subshell: they export variables and register cleanups.
# Needs root; when not root, bed_init prints why and exits 77 (skip).
#
# Reference (exported variables in brackets):
#   bed_init                       [BED_DIR BED_ID]
#   bed_on_exit CMD [ARG...]       register a cleanup
#   bed_as USER CMD...             CMD as USER, started in / (the test's folder may be root's alone)
#   bed_log MSG... / bed_fail MSG...
#   bed_assert_eq EXPECTED ACTUAL [WHAT] / bed_assert_contains TEXT PART [WHAT]
#   bed_wait SECONDS WHAT CMD...   retry CMD every 0.1 s
#   bed_free_port                  prints a free TCP port
#   bed_free_port_range N          prints the first of N free consecutive TCP ports
#   bed_wait_port HOST PORT [SECONDS=30]
#   bed_postgres                   [PGHOST PGPORT PGUSER BED_PG_DATA]
#   bed_nginx                      [BED_NGINX_PORT BED_NGINX_ROOT BED_NGINX_CONF_DIR BED_NGINX_DIR]
#   bed_nginx_reload
#   bed_smtp                       [BED_SMTP_PORT BED_MAILDIR]
#   bed_sshd                       [BED_SSH_PORT BED_SSH_CONFIG BED_SSH_KEY BED_SSH BED_SSH_KNOWN_HOSTS]
#   bed_libvirtd                   [BED_LIBVIRT_URI BED_LIBVIRT_DIR]
#   bed_libvirtd_exec CMD...       in the private libvirtd's mount namespace
#   bed_bridge NAME [CIDR]         [BED_BRIDGE BED_BRIDGE_<NAME> BED_BRIDGE_<NAME>_IP BED_BRIDGE_<NAME>_CIDR]
#   bed_node NAME [IP] [BRIDGE]    [BED_NODE_<NAME>_IP _URI _LOCAL_URI _NS _DIR] (+ the BED_SSH_* ones)
#   bed_node_exec NAME CMD...      on the node, via nsenter
#   bed_node_ssh NAME CMD...       on the node, via ssh
#   bed_systemd [FOLDER...]        [BED_SYSTEMD_PID BED_SYSTEMD_DIR] a container whose PID 1 is systemd
#   bed_systemd_exec CMD...        in that container
#   bed_systemd_reboot             a power failure and a boot of that container
#   bed_runit                      [BED_RUNIT_PID BED_RUNIT_DIR] a host whose init runs runsvdir on /etc/service
#   bed_runit_exec CMD...          on that host
#   bed_runit_reboot               a power failure and a boot of that host
# <NAME> is NAME upper-cased with any other character than A-Z0-9 made '_'.
# Mounts made on the host under $BED_DIR reach the libvirtd and node
# namespaces started before or after (not elsewhere: / is private here).

[[ -n ${_BED_SH_LOADED:-} ]] && return 0
_BED_SH_LOADED=1

_BED_LOCK_FILE=/run/lock/oe-bed.lock
_BED_PG_BIN=/usr/lib/postgresql/15/bin
_BED_PYTHON=/usr/bin/python3
# Folders libvirtd writes to; each bed namespace gets private ones over them.
_BED_LIBVIRT_DIRS=(run:/var/run/libvirt lib:/var/lib/libvirt log:/var/log/libvirt
                   etc:/etc/libvirt cache:/var/cache/libvirt)

# ---------------------------------------------------------------- basics

bed_log() { printf '[bed %(%T)T] %s\n' -1 "$*" >&2; }

bed_fail() {
  bed_log "FAIL: $*"
  exit 1
}

# bed_assert_eq EXPECTED ACTUAL [WHAT]
bed_assert_eq() {
  [[ $1 == "$2" ]] || bed_fail "${3:-values differ}: expected '$1', got '$2'"
}

# bed_assert_contains HAYSTACK NEEDLE [WHAT]
bed_assert_contains() {
  [[ $1 == *"$2"* ]] || bed_fail "${3:-missing text}: '$2' not found in: $1"
}

# bed_wait SECONDS WHAT CMD...: run CMD every 0.1 s until it succeeds.
bed_wait() {
  local limit=$1 what=$2
  shift 2
  local deadline=$((SECONDS + limit))
  until "$@" >/dev/null 2>&1; do
    ((SECONDS < deadline)) || bed_fail "timeout after ${limit}s waiting for $what"
    sleep 0.1
  done
}

_bed_port_open() { timeout 2 bash -c 'exec 3<>"/dev/tcp/$0/$1"' "$1" "$2" 2>/dev/null; }

# bed_wait_port HOST PORT [SECONDS=30]: wait until a TCP connect succeeds.
bed_wait_port() {
  bed_wait "${3:-30}" "TCP port $1:$2" _bed_port_open "$1" "$2"
}

# bed_on_exit CMD [ARG...]: register a cleanup (run in reverse order at exit).
# bed_as USER CMD...: CMD as USER (runuser), started in /: the test runs from
# a folder only root may enter (tests/CMakeLists.txt), and a tool started
# there as another user warns into its output (psql: "could not change
# directory").
bed_as() {
  local user=$1
  shift
  (cd / && runuser -u "$user" -- "$@")
}

bed_on_exit() {
  local q
  q=$(printf '%q ' "$@")
  _BED_CLEANUPS+=("$q")
}

bed_init() {
  set -euo pipefail
  if [[ $(id -u) -ne 0 ]]; then
    echo "skip: needs root (the bed starts daemons, namespaces and bridges)"
    exit 77
  fi
  [[ -z ${BED_DIR:-} ]] || bed_fail "bed_init called twice"
  umask 022
  BED_DIR=$(mktemp -d /tmp/oe-bed.XXXXXXXX)
  chmod 755 "$BED_DIR"  # services running as postgres / www-data traverse it
  BED_ID=${BED_DIR##*.}  # 8 random characters, unique while BED_DIR exists
  export BED_DIR BED_ID
  echo "$$ $(_bed_starttime $$)" >"$BED_DIR/.owner"
  _bed_locked _bed_reap_stale
  _BED_CLEANUPS=()
  declare -gA _BED_BR_IP=() _BED_BR_PREFIX=() _BED_NODE_NS=() _BED_NODE_DIR=()
  _BED_NBRIDGES=0 _BED_NNODES=0 _BED_SHARED=0
  trap _bed_exit EXIT
  trap 'exit 129' HUP
  trap 'exit 130' INT
  trap 'exit 143' TERM
  bed_log "bed in $BED_DIR"
}

_bed_exit() {
  local rc=$? i
  trap '' HUP INT TERM
  trap - EXIT
  set +eu
  cd / || :  # the test may have been working inside $BED_DIR
  for ((i = ${#_BED_CLEANUPS[@]} - 1; i >= 0; i--)); do
    # A subshell: a cleanup that exits cannot skip the others.
    (eval "${_BED_CLEANUPS[i]}") || bed_log "cleanup failed (status $?): ${_BED_CLEANUPS[i]}"
  done
  _bed_sweep
  if ! _bed_leftovers; then
    ((rc != 0)) || rc=1
  fi
  if [[ ${BED_KEEP:-0} == 1 ]]; then
    : >"$BED_DIR/.kept"
    bed_log "kept $BED_DIR (BED_KEEP=1)"
  elif grep -qF " $BED_DIR" /proc/self/mountinfo; then
    bed_log "NOT removing $BED_DIR: something is still mounted under it"
  else
    rm -rf --one-file-system "$BED_DIR"
  fi
  exit "$rc"
}

# _bed_alive PID: the process exists and is not a zombie.
_bed_alive() {
  local stat
  { read -r stat <"/proc/$1/stat"; } 2>/dev/null || return 1
  stat=${stat##*) }
  [[ ${stat:0:1} != Z ]]
}

# _bed_kill SECONDS PID...: SIGTERM, wait up to SECONDS, then SIGKILL and wait.
_bed_kill() {
  local limit=$1 p left deadline
  shift
  (($# > 0)) || return 0
  kill -TERM "$@" 2>/dev/null
  for deadline in $((SECONDS + limit)) $((SECONDS + limit + 5)); do
    while :; do
      left=()
      for p in "$@"; do _bed_alive "$p" && left+=("$p"); done
      ((${#left[@]} > 0)) || return 0
      ((SECONDS < deadline)) || break
      sleep 0.1
    done
    kill -KILL "${left[@]}" 2>/dev/null
  done
  bed_log "processes still alive after SIGKILL: ${left[*]}"
  return 1
}

_bed_pidfile() { [[ -s $1 ]] && head -n1 "$1"; }

# Processes whose command line or working folder refers to $BED_DIR.
_bed_dir_pids() {
  local f pid
  {
    grep -laF -- "$BED_DIR" /proc/[0-9]*/cmdline 2>/dev/null
    find /proc -mindepth 2 -maxdepth 2 -name cwd -lname "$BED_DIR*" 2>/dev/null
  } | sort -u | while read -r f; do
    pid=${f#/proc/} pid=${pid%/*}
    # grep and find have exited by now (sort waited for them): only the
    # test's shell itself must be left out.
    [[ $pid == "$$" ]] && continue
    _bed_alive "$pid" && echo "$pid"
  done
  return 0
}

# Last resort: whatever still runs from $BED_DIR is stopped, with a warning.
_bed_sweep() {
  local pids
  mapfile -t pids < <(_bed_dir_pids)
  if ((${#pids[@]} > 0)); then
    bed_log "stopping processes left over in $BED_DIR:"
    ps -o pid,args -p "${pids[*]}" >&2
    _bed_kill 3 "${pids[@]}"
  fi
  if grep -qF " $BED_DIR" /proc/self/mountinfo; then
    umount -R "$BED_DIR" 2>/dev/null || umount -R -l "$BED_DIR"
  fi
}

# Reports processes, mounts, network namespaces and links left behind.
_bed_leftovers() {
  local bad=0 out
  out=$(_bed_dir_pids)
  [[ -z $out ]] || { bed_log "LEFTOVER processes: $out"; bad=1; }
  out=$(grep -F " $BED_DIR" /proc/self/mountinfo)
  [[ -z $out ]] || { bed_log "LEFTOVER mounts: $out"; bad=1; }
  out=$(ip netns list | grep -F "oet$BED_ID")
  [[ -z $out ]] || { bed_log "LEFTOVER netns: $out"; bad=1; }
  out=$(ip -o link show | grep -F "oet" | grep -F "$BED_ID")
  [[ -z $out ]] || { bed_log "LEFTOVER links: $out"; bad=1; }
  out=$(find /sys/fs/cgroup -mindepth 2 -maxdepth 8 -type d -name "oe-bed-$BED_ID" -prune 2>/dev/null)
  [[ -z $out ]] || { bed_log "LEFTOVER cgroups: $out"; bad=1; }
  ((bad == 0))
}

_bed_starttime() {
  local stat
  { read -r stat <"/proc/$1/stat"; } 2>/dev/null || return 0
  stat=${stat##*) }
  read -r -a stat <<<"$stat"
  echo "${stat[19]}"
}

# A test killed outright (SIGKILL, a ctest timeout) cannot clean up: the next
# bed_init stops what its bed left (processes, their namespaces, netns, links,
# mounts) and removes its folder. Beds kept with BED_KEEP=1 are left alone.
_bed_reap_stale() {
  local dir owner start id ns link p pids more seen
  for dir in /tmp/oe-bed.*; do
    [[ $dir != "$BED_DIR" && -f $dir/.owner && ! -e $dir/.kept ]] || continue
    read -r owner start <"$dir/.owner" || continue
    [[ $(_bed_starttime "$owner") == "$start" ]] && continue  # its test still runs
    id=${dir##*.}
    bed_log "cleaning up after a killed test: $dir"
    mapfile -t pids < <(BED_DIR=$dir _bed_dir_pids)
    pids+=($(_bed_lxc_controllers "$dir"/libvirt/run "$dir"/nodes/*/run))
    for ns in $(ip netns list | grep -o "^oet${id}-[^ ]*"); do
      pids+=($(ip netns pids "$ns"))
    done
    more=()
    for p in "${pids[@]}"; do  # whole private mount namespaces (libvirtd's)
      [[ $(readlink "/proc/$p/ns/mnt") == "$(readlink /proc/$$/ns/mnt)" ]] \
        || more+=($(_bed_mntns_pids "$p"))
    done
    pids+=("${more[@]}")
    seen=" ${pids[*]} "
    while read -r p owner; do  # and their descendants (LXC containers)
      [[ $seen == *" $owner "* && $seen != *" $p "* ]] && { pids+=("$p"); seen+="$p "; }
    done < <(ps -e -o pid=,ppid= --sort=start_time)
    ((${#pids[@]} == 0)) || _bed_kill 3 "${pids[@]}"
    for ns in $(ip netns list | grep -o "^oet${id}-[^ ]*"); do ip netns del "$ns"; done
    for link in $(ip -o link show | grep -o "oet[bh]${id}[0-9]*"); do ip link del "$link" 2>/dev/null; done
    _bed_cgroups_remove "$id"  # bed_systemd's
    if grep -qF " $dir" /proc/self/mountinfo; then umount -R -l "$dir"; fi
    rm -rf --one-file-system "$dir"
  done
  return 0
}

# Serialises port and subnet choices between beds running at the same time.
_bed_locked() {
  local fd rc=0
  mkdir -p "${_BED_LOCK_FILE%/*}"
  exec {fd}>>"$_BED_LOCK_FILE"
  flock -w 60 "$fd" || bed_fail "cannot lock $_BED_LOCK_FILE"
  "$@" || rc=$?
  exec {fd}>&-
  return "$rc"
}

_bed_pick_port() {
  local p i
  mkdir -p "$BED_DIR/.ports"
  for ((i = 0; i < 200; i++)); do
    p=$((20000 + (RANDOM * 32768 + RANDOM) % 12000))
    compgen -G "/tmp/oe-bed.*/.ports/$p" >/dev/null && continue
    [[ -z $(ss -Htan "sport = :$p") ]] || continue
    : >"$BED_DIR/.ports/$p"
    echo "$p"
    return 0
  done
  bed_fail "no free TCP port found"
}

# bed_free_port: prints a TCP port free on 127.0.0.1, not handed to another bed.
bed_free_port() { _bed_locked _bed_pick_port; }

# N consecutive free ports, none handed to another bed: each is claimed, so
# that no other bed (running its scenarios beside this one) gets a port of
# the range, where this bed's services may listen later.
_bed_pick_range() {
  local n=$1 p i k ok listening
  mkdir -p "$BED_DIR/.ports"
  listening=" $(ss -Htan | awk '{n = split($4, a, ":"); print a[n]}' | sort -u | tr '\n' ' ') "
  for ((i = 0; i < 200; i++)); do
    p=$((20000 + (RANDOM * 32768 + RANDOM) % 12000))
    ok=1
    for ((k = p; k < p + n; k++)); do
      if [[ $listening == *" $k "* ]] || compgen -G "/tmp/oe-bed.*/.ports/$k" >/dev/null; then
        ok=0
        break
      fi
    done
    ((ok)) || continue
    for ((k = p; k < p + n; k++)); do : >"$BED_DIR/.ports/$k"; done
    echo "$p"
    return 0
  done
  bed_fail "no free range of $n TCP ports found"
}

# bed_free_port_range N: prints the first of N consecutive free TCP ports, all
# of them kept from other beds.
bed_free_port_range() { _bed_locked _bed_pick_range "$1"; }

# Name of an exported variable part: n1 -> N1, my-node -> MY_NODE.
_bed_var() {
  local v=${1^^}
  echo "${v//[^A-Z0-9]/_}"
}

# ---------------------------------------------------------------- PostgreSQL

# bed_postgres: private PostgreSQL 15 cluster on 127.0.0.1:$PGPORT and a
# socket folder. The superuser postgres is trusted (the tests' and xoe's
# connection); every other role must give its password (SCRAM), as the
# services' own roles do on a real server. Exports PGHOST PGPORT PGUSER BED_PG_DATA.
bed_postgres() {
  local d=$BED_DIR/postgres
  [[ -x $_BED_PG_BIN/initdb ]] || bed_fail "PostgreSQL 15 not found in $_BED_PG_BIN"
  mkdir -p "$d/data" "$d/sock"
  chown -R postgres:postgres "$d"
  chmod 700 "$d/data"
  local port
  port=$(bed_free_port)
  (cd "$d" && runuser -u postgres -- "$_BED_PG_BIN/initdb" -D "$d/data" -U postgres \
     --auth=trust --encoding=UTF8 --locale=C.UTF-8 --no-sync >"$d/initdb.log" 2>&1) \
    || { cat "$d/initdb.log" >&2; bed_fail "initdb failed"; }
  cat >>"$d/data/postgresql.conf" <<EOF
# oe test bed
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$d/sock'
max_connections = 100
EOF
  # A test server: durability off, for speed (BED_PG_DURABLE=1 keeps
  # PostgreSQL's defaults, as on a production server: the benchmarks).
  [[ ${BED_PG_DURABLE:-0} == 1 ]] || printf '%s\n' "fsync = off" "synchronous_commit = off" "full_page_writes = off" \
    >>"$d/data/postgresql.conf"
  cat >"$d/data/pg_hba.conf" <<EOF
# oe test bed
local all postgres trust
host  all postgres 127.0.0.1/32 trust
local all all scram-sha-256
host  all all 127.0.0.1/32 scram-sha-256
EOF
  bed_on_exit _bed_postgres_stop "$d"
  (cd "$d" && runuser -u postgres -- "$_BED_PG_BIN/pg_ctl" -D "$d/data" -l "$d/postgres.log" \
     -w -t 30 start >/dev/null) \
    || { cat "$d/postgres.log" >&2; bed_fail "PostgreSQL did not start"; }
  export PGHOST=$d/sock PGPORT=$port PGUSER=postgres BED_PG_DATA=$d/data
  bed_wait 30 "PostgreSQL" "$_BED_PG_BIN/pg_isready" -q -h "$PGHOST" -p "$PGPORT"
  bed_log "postgres: port $PGPORT, socket $PGHOST"
}

_bed_postgres_stop() {
  local d=$1 pid
  pid=$(_bed_pidfile "$d/data/postmaster.pid") || return 0
  (cd "$d" && runuser -u postgres -- "$_BED_PG_BIN/pg_ctl" -D "$d/data" stop -m immediate \
     -w -t 15 >/dev/null 2>&1)
  _bed_kill 5 "$pid"
}

# ---------------------------------------------------------------- nginx

# bed_nginx: nginx on 127.0.0.1:$BED_NGINX_PORT serving $BED_NGINX_ROOT; extra
# server blocks go in $BED_NGINX_CONF_DIR/*.conf, applied by bed_nginx_reload.
bed_nginx() {
  local d=$BED_DIR/nginx user group
  mkdir -p "$d/www" "$d/conf.d" "$d/tmp" "$d/logs"
  BED_NGINX_PORT=$(bed_free_port)
  BED_NGINX_ROOT=$d/www
  BED_NGINX_CONF_DIR=$d/conf.d
  BED_NGINX_DIR=$d
  export BED_NGINX_PORT BED_NGINX_ROOT BED_NGINX_CONF_DIR BED_NGINX_DIR
  if id www-data >/dev/null 2>&1; then user=www-data; else user=nobody; fi
  group=$(id -gn "$user")
  cat >"$d/nginx.conf" <<EOF
user $user $group;
worker_processes 1;
pid $d/nginx.pid;
error_log $d/logs/error.log;
events { worker_connections 256; }
http {
  include /etc/nginx/mime.types;
  default_type application/octet-stream;
  access_log $d/logs/access.log;
  client_body_temp_path $d/tmp/body;
  proxy_temp_path $d/tmp/proxy;
  fastcgi_temp_path $d/tmp/fastcgi;
  uwsgi_temp_path $d/tmp/uwsgi;
  scgi_temp_path $d/tmp/scgi;
  server {
    listen 127.0.0.1:$BED_NGINX_PORT;
    root $d/www;
  }
  include $d/conf.d/*.conf;
}
EOF
  bed_on_exit _bed_nginx_stop
  _bed_nginx -t -q 2>"$d/logs/check.log" || { cat "$d/logs/check.log" >&2; bed_fail "bad nginx config"; }
  _bed_nginx || bed_fail "nginx did not start: $(cat "$d/logs/error.log")"
  bed_wait 10 "nginx pid file" test -s "$d/nginx.pid"
  bed_wait_port 127.0.0.1 "$BED_NGINX_PORT" 10
  bed_log "nginx: port $BED_NGINX_PORT, root $BED_NGINX_ROOT"
}

_bed_nginx() {
  nginx -p "$BED_NGINX_DIR/" -c "$BED_NGINX_DIR/nginx.conf" -e "$BED_NGINX_DIR/logs/error.log" "$@"
}

# bed_nginx_reload: checks the configuration, reloads it and waits until the
# new worker processes (which serve the new configuration) are up.
bed_nginx_reload() {
  local master old p
  master=$(_bed_pidfile "$BED_NGINX_DIR/nginx.pid") || bed_fail "nginx is not running"
  _bed_nginx -t -q 2>"$BED_NGINX_DIR/logs/check.log" \
    || { cat "$BED_NGINX_DIR/logs/check.log" >&2; bed_fail "bad nginx config"; }
  old=" $(pgrep -P "$master" | tr "\n" " " || :)"
  kill -HUP "$master"
  _bed_nginx_new_worker() {
    for p in $(pgrep -P "$master"); do [[ $old == *" $p "* ]] || return 0; done
    return 1
  }
  bed_wait 10 "nginx reload" _bed_nginx_new_worker
}

_bed_nginx_stop() {
  local master
  master=$(_bed_pidfile "$BED_NGINX_DIR/nginx.pid") || return 0
  local pids=("$master" $(pgrep -P "$master"))
  kill -QUIT "$master" 2>/dev/null
  _bed_kill 5 "${pids[@]}"
}

# ---------------------------------------------------------------- SMTP

# bed_smtp: aiosmtpd on 127.0.0.1:$BED_SMTP_PORT, every mail stored in the
# Maildir $BED_MAILDIR (new mails in $BED_MAILDIR/new).
bed_smtp() {
  local d=$BED_DIR/smtp
  mkdir -p "$d"
  BED_SMTP_PORT=$(bed_free_port)
  BED_MAILDIR=$BED_DIR/maildir
  export BED_SMTP_PORT BED_MAILDIR
  env -u PYTHONPATH -u PYTHONHOME "$_BED_PYTHON" -m aiosmtpd -n -l "127.0.0.1:$BED_SMTP_PORT" \
    -c aiosmtpd.handlers.Mailbox "$BED_MAILDIR" </dev/null >"$d/smtp.log" 2>&1 &
  local pid=$!
  echo "$pid" >"$d/smtp.pid"
  bed_on_exit _bed_kill 5 "$pid"
  bed_wait 20 "SMTP server" _bed_smtp_up "$pid"
  bed_log "smtp: port $BED_SMTP_PORT, maildir $BED_MAILDIR"
}

_bed_smtp_up() {
  _bed_alive "$1" || bed_fail "SMTP server exited: $(cat "$BED_DIR/smtp/smtp.log")"
  _bed_port_open 127.0.0.1 "$BED_SMTP_PORT"
}

# ---------------------------------------------------------------- SSH

# Keys and client configuration, shared by bed_sshd and the nodes' sshd.
_bed_ssh_setup() {
  local d=$BED_DIR/ssh
  [[ -e $d/config ]] && return 0
  mkdir -p "$d"
  chmod 700 "$d"
  ssh-keygen -q -t ed25519 -N '' -C oe-bed-host -f "$d/host_ed25519"
  ssh-keygen -q -t ed25519 -N '' -C oe-bed-client -f "$d/id_ed25519"
  cp "$d/id_ed25519.pub" "$d/authorized_keys"
  # Every bed sshd (host and nodes) has this one host key: pin it for any host.
  echo "* $(cut -d' ' -f1,2 "$d/host_ed25519.pub")" >"$d/known_hosts"
  cat >"$d/config" <<EOF
Host *
  User root
  IdentityFile $d/id_ed25519
  IdentitiesOnly yes
  UserKnownHostsFile $d/known_hosts
  GlobalKnownHostsFile /dev/null
  StrictHostKeyChecking yes
  CheckHostIP no
  UpdateHostKeys no
  BatchMode yes
  ConnectTimeout 10
  ServerAliveInterval 10
  LogLevel ERROR
EOF
  # A server config without port and address: each sshd adds its own.
  cat >"$d/sshd_config" <<EOF
HostKey $d/host_ed25519
AuthorizedKeysFile $d/authorized_keys
PermitRootLogin prohibit-password
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
UseDNS no
PrintMotd no
MaxStartups 100:30:200
MaxSessions 100
AcceptEnv LANG LC_*
Subsystem sftp /usr/lib/openssh/sftp-server
EOF
  printf '#!/bin/sh\nexec /usr/bin/ssh -F %s "$@"\n' "$d/config" >"$d/ssh"
  chmod 755 "$d/ssh"
  mkdir -p -m 755 /run/sshd  # sshd's privilege separation folder
  BED_SSH_CONFIG=$d/config
  BED_SSH_KEY=$d/id_ed25519
  BED_SSH=$d/ssh
  BED_SSH_KNOWN_HOSTS=$d/known_hosts
  export BED_SSH_CONFIG BED_SSH_KEY BED_SSH BED_SSH_KNOWN_HOSTS
}

# bed_sshd: sshd on 127.0.0.1:$BED_SSH_PORT; log in with
#   ssh -F "$BED_SSH_CONFIG" -p "$BED_SSH_PORT" root@127.0.0.1 CMD
bed_sshd() {
  _bed_ssh_setup
  local d=$BED_DIR/ssh
  BED_SSH_PORT=$(bed_free_port)
  export BED_SSH_PORT
  /usr/sbin/sshd -D -f "$d/sshd_config" -o "Port=$BED_SSH_PORT" -o ListenAddress=127.0.0.1 \
    -o "PidFile=$d/sshd.pid" -E "$d/sshd.log" </dev/null >/dev/null 2>&1 &
  local pid=$!
  bed_on_exit _bed_kill 5 "$pid"
  bed_wait 10 "sshd" _bed_sshd_up "$pid"
  bed_log "sshd: port $BED_SSH_PORT"
}

_bed_sshd_up() {
  _bed_alive "$1" || bed_fail "sshd exited: $(cat "$BED_DIR/ssh/sshd.log")"
  _bed_port_open 127.0.0.1 "$BED_SSH_PORT"
}

# ---------------------------------------------------------------- libvirt

# Makes $BED_DIR a shared mount: mounts made on the host under $BED_DIR later
# (an overlay root for a domain) reach the daemons' namespaces, which are its
# slaves. The machine's / is private (no systemd), so nothing else would.
_bed_share_dir() {
  ((_BED_SHARED)) && return 0
  mount --rbind "$BED_DIR" "$BED_DIR"
  mount --make-shared "$BED_DIR"
  _BED_SHARED=1  # _bed_sweep unmounts it, after the last process has gone
}

# _bed_libvirt_prepare DIR: private libvirt folders in DIR. Prints the mount
# commands a namespace runs before it starts libvirtd.
_bed_libvirt_prepare() {
  local d=$1 e sub target
  for e in "${_BED_LIBVIRT_DIRS[@]}"; do
    sub=${e%%:*} target=${e#*:}
    mkdir -p "$d/$sub"
    [[ -d $target ]] || mkdir -p "$target"  # empty mount point on the host
  done
  # Only the top-level settings: never the host's domain or network definitions.
  find /etc/libvirt -maxdepth 1 -type f -exec cp -t "$d/etc" {} +
  # libvirt 9.0's QEMU driver looks up the group libvirt-qemu (not only the
  # user): give the namespace copies of /etc/group and /etc/passwd that have it.
  if ! getent group libvirt-qemu >/dev/null; then
    cp /etc/group "$d/group"
    echo "libvirt-qemu:x:$(id -g libvirt-qemu 2>/dev/null || echo 64055):" >>"$d/group"
    echo "mount --bind '$d/group' /etc/group"
  fi
  if ! getent passwd libvirt-qemu >/dev/null; then
    cp /etc/passwd "$d/passwd"
    echo "libvirt-qemu:x:64055:64055:Libvirt Qemu:/var/lib/libvirt:/usr/sbin/nologin" >>"$d/passwd"
    echo "mount --bind '$d/passwd' /etc/passwd"
  fi
  for e in "${_BED_LIBVIRT_DIRS[@]}"; do
    echo "mount --bind '$d/${e%%:*}' '${e#*:}'"
  done
}

# _bed_libvirt_ready URI DIR WHAT: wait until the libvirtd of DIR answers on URI.
_bed_libvirt_ready() {
  local uri=$1 d=$2 what=$3 deadline=$((SECONDS + 30)) pid
  until timeout 10 virsh -q -c "$uri" uri >/dev/null 2>&1; do
    if ! pid=$(_bed_pidfile "$d/libvirtd.pid") || ! _bed_alive "$pid"; then
      sleep 0.5  # it may still be writing its pid file
      if ! pid=$(_bed_pidfile "$d/libvirtd.pid") || ! _bed_alive "$pid"; then
        tail -n 20 "$d/log/libvirtd.log" >&2 2>/dev/null
        bed_fail "$what libvirtd exited"
      fi
    fi
    ((SECONDS < deadline)) || bed_fail "$what libvirtd not answering on $uri"
    sleep 0.1
  done
}

# _bed_libvirt_purge URI RUNDIR: destroy and undefine every domain, then kill
# any LXC controller (and its container) still running.
_bed_libvirt_purge() {
  local uri=$1 run=$2 dom f pid
  if [[ -S $run/libvirt-sock ]]; then
    while read -r dom; do
      [[ -n $dom ]] || continue
      bed_log "removing leftover domain $dom"
      timeout 15 virsh -q -c "$uri" destroy "$dom" >/dev/null 2>&1
      timeout 15 virsh -q -c "$uri" undefine "$dom" >/dev/null 2>&1
    done < <(timeout 15 virsh -q -c "$uri" list --all --name 2>/dev/null)
  fi
  for pid in $(_bed_lxc_controllers "$run"); do
    bed_log "killing leftover LXC controller $pid and its container"
    _bed_kill 3 $(pgrep -P "$pid") "$pid"
  done
}

# _bed_lxc_controllers RUNDIR...: live libvirt_lxc controllers of the domains
# whose state is in RUNDIR/lxc (the container's init is a child of each).
_bed_lxc_controllers() {
  local run f pid name args
  for run in "$@"; do for f in "$run"/lxc/*.pid; do
    [[ -e ${f%.pid}.xml ]] || continue  # a domain's controller (not driver.pid)
    name=${f##*/} name=${name%.pid}
    pid=$(_bed_pidfile "$f") && _bed_alive "$pid" || continue
    args=()
    mapfile -d "" args 2>/dev/null <"/proc/$pid/cmdline"
    [[ ${args[0]} == */libvirt_lxc && " ${args[*]} " == *" --name $name "* ]] && echo "$pid"
  done; done
  return 0
}

# Processes sharing the mount namespace of PID (PID included).
_bed_mntns_pids() {
  local ns f
  ns=$(readlink "/proc/$1/ns/mnt") || return 0  # mnt:[4026532...]
  ns=${ns//[/\\[} ns=${ns//]/\\]}
  find /proc -mindepth 3 -maxdepth 3 -path '/proc/[0-9]*/ns/mnt' -lname "$ns" 2>/dev/null \
    | while read -r f; do f=${f#/proc/}; echo "${f%%/*}"; done
}

# bed_libvirtd: a private libvirtd (and virtlogd) for this machine, in its own
# mount namespace with private /var/run/libvirt, /var/lib/libvirt,
# /var/log/libvirt, /etc/libvirt and /var/cache/libvirt. Exports
# BED_LIBVIRT_URI (lxc:///system?socket=...) and BED_LIBVIRT_DIR.
bed_libvirtd() {
  local d=$BED_DIR/libvirt mounts
  [[ -z ${BED_LIBVIRT_DIR:-} ]] || bed_fail "bed_libvirtd called twice"
  mkdir -p "$d"
  mounts=$(_bed_libvirt_prepare "$d")
  _bed_share_dir
  BED_LIBVIRT_DIR=$d
  BED_LIBVIRT_URI="lxc:///system?socket=$d/run/libvirt-sock"
  export BED_LIBVIRT_DIR BED_LIBVIRT_URI
  bed_on_exit _bed_libvirtd_stop "$d"
  # The cgroup trap (TESTBED.md): with the v2 mount at /sys/fs/cgroup/unified
  # every LXC start fails, so that mount goes, in this namespace only.
  unshare -m --propagation slave bash -ec "
    if mountpoint -q /sys/fs/cgroup/unified; then umount /sys/fs/cgroup/unified; fi
    $mounts
    virtlogd -d -p '$d/virtlogd.pid'
    libvirtd -d -p '$d/libvirtd.pid'
  " </dev/null >"$d/start.log" 2>&1 || { cat "$d/start.log" >&2; bed_fail "libvirtd did not start"; }
  _bed_libvirt_ready "$BED_LIBVIRT_URI" "$d" "bed"
  bed_log "libvirtd: $BED_LIBVIRT_URI"
}

# bed_libvirtd_exec CMD...: run CMD in the private libvirtd's mount namespace.
bed_libvirtd_exec() {
  local pid
  pid=$(_bed_pidfile "$BED_LIBVIRT_DIR/libvirtd.pid") || bed_fail "bed libvirtd not running"
  nsenter -t "$pid" -m -- "$@"
}

_bed_libvirtd_stop() {
  local d=$1 pid pids=()
  _bed_libvirt_purge "lxc:///system?socket=$d/run/libvirt-sock" "$d/run"
  if pid=$(_bed_pidfile "$d/libvirtd.pid") && _bed_alive "$pid"; then
    # libvirtd is alive, so its namespace is: everything in it goes.
    mapfile -t pids < <(_bed_mntns_pids "$pid")
  fi
  for pid in "$d/libvirtd.pid" "$d/virtlogd.pid"; do
    pid=$(_bed_pidfile "$pid") && pids+=("$pid")
  done
  _bed_kill 10 "${pids[@]}"
}

# ---------------------------------------------------------------- nodes

_bed_ip2int() {
  local a b c d
  IFS=. read -r a b c d <<<"$1"
  echo $(((a << 24) | (b << 16) | (c << 8) | d))
}

_bed_int2ip() { echo "$((($1 >> 24) & 255)).$((($1 >> 16) & 255)).$((($1 >> 8) & 255)).$(($1 & 255))"; }

_bed_pick_subnet() {
  local x
  mkdir -p "$BED_DIR/.nets"
  for ((x = 0; x < 256; x++)); do
    compgen -G "/tmp/oe-bed.*/.nets/$x" >/dev/null && continue
    [[ -z $(ip -4 -o addr show to "10.231.$x.0/24") ]] || continue
    [[ -z $(ip -4 route show to match "10.231.$x.0/24" | grep -v '^default') ]] || continue
    : >"$BED_DIR/.nets/$x"
    echo "10.231.$x.1/24"
    return 0
  done
  bed_fail "no free subnet in 10.231.0.0/16"
}

# bed_bridge NAME [CIDR]: a host bridge standing for a LAN, with the host's
# address CIDR on it (default: a free 10.231.X.1/24). Exports BED_BRIDGE (the
# last bridge's device), BED_BRIDGE_<NAME> (device), BED_BRIDGE_<NAME>_IP and
# BED_BRIDGE_<NAME>_CIDR. Let concurrent tests pick the subnet (no CIDR).
bed_bridge() {
  local name=${1:?usage: bed_bridge NAME [CIDR]} cidr=${2:-} var dev ip prefix n net mask
  var=$(_bed_var "$name")
  dev=oetb$BED_ID$_BED_NBRIDGES
  ((++_BED_NBRIDGES))
  [[ -n $cidr ]] || cidr=$(_bed_locked _bed_pick_subnet)
  ip=${cidr%/*}
  prefix=24
  [[ $cidr == */* ]] && prefix=${cidr#*/}
  n=$(_bed_ip2int "$ip")
  mask=$(((0xffffffff << (32 - prefix)) & 0xffffffff))
  net=$((n & mask))
  ((n != net)) || ip=$(_bed_int2ip $((net + 1)))
  if [[ -n ${2:-} && -n $(ip -4 -o addr show to "$(_bed_int2ip "$net")/$prefix") ]]; then
    bed_fail "bed_bridge: $(_bed_int2ip "$net")/$prefix is already in use here"
  fi
  bed_on_exit ip link del "$dev"
  ip link add "$dev" type bridge
  if [[ -w /proc/sys/net/ipv6/conf/$dev/disable_ipv6 ]]; then
    echo 1 >"/proc/sys/net/ipv6/conf/$dev/disable_ipv6"
  fi
  ip addr add "$ip/$prefix" dev "$dev"
  ip link set "$dev" up
  _BED_BR_IP[$dev]=$ip
  _BED_BR_PREFIX[$dev]=$prefix
  BED_BRIDGE=$dev
  printf -v "BED_BRIDGE_$var" %s "$dev"
  printf -v "BED_BRIDGE_${var}_IP" %s "$ip"
  printf -v "BED_BRIDGE_${var}_CIDR" %s "$ip/$prefix"
  export BED_BRIDGE "BED_BRIDGE_$var" "BED_BRIDGE_${var}_IP" "BED_BRIDGE_${var}_CIDR"
  bed_log "bridge $name: $dev $ip/$prefix"
}

# bed_node NAME [IP] [BRIDGE_DEVICE]: a node = a network namespace on the bridge
# (default: the last one) with hostname NAME, its own libvirtd + virtlogd
# (private libvirt folders, cgroup v1 hierarchies) and sshd on IP:22 (default
# IP: bridge network + 11, +12, ...). Exports BED_NODE_<NAME>_IP,
# BED_NODE_<NAME>_URI (lxc+ssh://root@IP/system?..., over ssh with the bed's
# key and pinned host key), BED_NODE_<NAME>_LOCAL_URI (the node's libvirt
# socket reached directly from the host), BED_NODE_<NAME>_NS (netns name) and
# BED_NODE_<NAME>_DIR.
bed_node() {
  local name=${1:?usage: bed_node NAME [IP] [BRIDGE]} ip=${2:-} br=${3:-${BED_BRIDGE:-}}
  [[ $name =~ ^[a-zA-Z0-9][a-zA-Z0-9-]{0,30}$ ]] || bed_fail "bed_node: bad node name '$name'"
  [[ -n $br && -n ${_BED_BR_IP[$br]:-} ]] || bed_fail "bed_node $name: call bed_bridge first"
  [[ -z ${_BED_NODE_NS[$name]:-} ]] || bed_fail "bed_node $name: already exists"
  local var k brip prefix net mask ns vh vp d mounts cg
  var=$(_bed_var "$name")
  k=$_BED_NNODES
  ((++_BED_NNODES))
  brip=${_BED_BR_IP[$br]} prefix=${_BED_BR_PREFIX[$br]}
  mask=$(((0xffffffff << (32 - prefix)) & 0xffffffff))
  net=$(($(_bed_ip2int "$brip") & mask))
  ip=${ip%/*}
  [[ -n $ip ]] || ip=$(_bed_int2ip $((net + 11 + k)))
  ((($(_bed_ip2int "$ip") & mask) == net)) || bed_fail "bed_node $name: $ip is not in $brip/$prefix"
  ns=oet$BED_ID-$name
  vh=oeth$BED_ID$k vp=oetp$BED_ID$k
  d=$BED_DIR/nodes/$name
  mkdir -p "$d"
  mounts=$(_bed_libvirt_prepare "$d")
  _bed_ssh_setup
  _bed_share_dir
  _BED_NODE_NS[$name]=$ns _BED_NODE_DIR[$name]=$d

  bed_on_exit _bed_node_stop "$ns" "$vh" "$d"
  ip netns add "$ns"
  ip link add "$vh" type veth peer name "$vp"
  ip link set "$vh" master "$br" up
  ip link set "$vp" netns "$ns"
  ip -n "$ns" link set "$vp" name eth0
  ip -n "$ns" link set lo up
  ip -n "$ns" addr add "$ip/$prefix" dev eth0
  ip -n "$ns" link set eth0 up
  ip -n "$ns" route add default via "$brip"

  # `ip netns exec` mounts a fresh /sys without the cgroup hierarchies:
  # libvirtd then fails with "no cgroup backend available". Mount the v1
  # controllers (not the v2 one: the cgroup trap of TESTBED.md).
  if [[ $(stat -f -c %T /sys/fs/cgroup/cpu 2>/dev/null) == cgroupfs ]]; then
    cg="mount -t tmpfs -o mode=755 cgroup /sys/fs/cgroup"
    local c
    for c in cpu cpuacct cpuset memory devices freezer blkio pids; do
      mountpoint -q "/sys/fs/cgroup/$c" || continue
      cg+=$'\n'"mkdir /sys/fs/cgroup/$c; mount -t cgroup -o $c cgroup /sys/fs/cgroup/$c"
    done
    cg+=$'\n'"mkdir /sys/fs/cgroup/systemd; mount -t cgroup -o none,name=systemd cgroup /sys/fs/cgroup/systemd"
  else
    cg="mount -t cgroup2 cgroup2 /sys/fs/cgroup"
  fi
  ip netns exec "$ns" unshare -m -u --propagation slave bash -ec "
    hostname '$name'
    $mounts
    $cg
    virtlogd -d -p '$d/virtlogd.pid'
    libvirtd -d -p '$d/libvirtd.pid'
    /usr/sbin/sshd -f '$BED_DIR/ssh/sshd_config' -o Port=22 -o 'ListenAddress=$ip' \
      -o 'PidFile=$d/sshd.pid' -E '$d/sshd.log'
  " </dev/null >"$d/start.log" 2>&1 || { cat "$d/start.log" >&2; bed_fail "node $name did not start"; }

  local local_uri="lxc:///system?socket=$d/run/libvirt-sock"
  _bed_libvirt_ready "$local_uri" "$d" "node $name"
  bed_wait_port "$ip" 22 10
  printf -v "BED_NODE_${var}_IP" %s "$ip"
  printf -v "BED_NODE_${var}_URI" %s \
    "lxc+ssh://root@$ip/system?keyfile=$BED_SSH_KEY&command=$BED_SSH&no_tty=1"
  printf -v "BED_NODE_${var}_LOCAL_URI" %s "$local_uri"
  printf -v "BED_NODE_${var}_NS" %s "$ns"
  printf -v "BED_NODE_${var}_DIR" %s "$d"
  export "BED_NODE_${var}_IP" "BED_NODE_${var}_URI" "BED_NODE_${var}_LOCAL_URI" \
    "BED_NODE_${var}_NS" "BED_NODE_${var}_DIR"
  bed_log "node $name: $ip in netns $ns"
}

# bed_node_exec NAME CMD...: run CMD on node NAME (its network, mount and UTS
# namespaces), without ssh.
bed_node_exec() {
  local name=${1:?usage: bed_node_exec NAME CMD...} pid
  shift
  pid=$(_bed_pidfile "${_BED_NODE_DIR[$name]:-/nonexistent}/libvirtd.pid") \
    || bed_fail "node $name is not running"
  nsenter -t "$pid" -n -m -u -- "$@"
}

# bed_node_ssh NAME CMD...: run CMD on node NAME over ssh.
bed_node_ssh() {
  local name=${1:?usage: bed_node_ssh NAME CMD...} var ipvar
  shift
  var=$(_bed_var "$name")
  ipvar=BED_NODE_${var}_IP
  [[ -n ${!ipvar:-} ]] || bed_fail "no node $name"
  ssh -F "$BED_SSH_CONFIG" "root@${!ipvar}" "$@"
}

_bed_node_stop() {
  local ns=$1 vh=$2 d=$3 pids deadline=$((SECONDS + 20))
  _bed_libvirt_purge "lxc:///system?socket=$d/run/libvirt-sock" "$d/run"
  if [[ -e /run/netns/$ns ]]; then
    while :; do
      mapfile -t pids < <(ip netns pids "$ns" 2>/dev/null)
      ((${#pids[@]} > 0)) || break
      ((SECONDS < deadline)) || { bed_log "node $ns: processes left: ${pids[*]}"; break; }
      _bed_kill 5 "${pids[@]}"
    done
    ip netns del "$ns"
  fi
  ip link del "$vh" >/dev/null 2>&1  # usually gone with the netns already
  return 0
}

# ---------------------------------------------------------------- systemd

# _bed_cgroup_dirs: one line per cgroup hierarchy mounted here: the folder of
# this shell's own cgroup in it.
_bed_cgroup_dirs() {
  local id ctl path type target fsroot opts c want rel
  while IFS=: read -r id ctl path; do
    while read -r type target fsroot opts; do
      if [[ $id == 0 ]]; then
        [[ $type == cgroup2 ]] || continue
      else
        [[ $type == cgroup ]] || continue
        want=1
        for c in ${ctl//,/ }; do [[ ,$opts, == *",$c,"* ]] || want=0; done
        ((want)) || continue
      fi
      rel=${path#"${fsroot%/}"}
      printf '%s\n' "${target}${rel%/}"
      break
    done < <(findmnt -rn -t cgroup,cgroup2 -o FSTYPE,TARGET,FSROOT,FS-OPTIONS)
  done </proc/self/cgroup
}

# _bed_cgroups_remove ID: removes the cgroups oe-bed-ID (and what was made in
# them) from every hierarchy; they must hold no process any more.
_bed_cgroups_remove() {
  local d
  find /sys/fs/cgroup -mindepth 2 -maxdepth 8 -type d -name "oe-bed-$1" -prune 2>/dev/null \
    | while read -r d; do
        find "$d" -depth -type d -exec rmdir {} + 2>/dev/null \
          || bed_log "cannot remove the cgroup $d: $(cat "$d/cgroup.procs" 2>/dev/null | tr '\n' ' ')"
      done
  return 0
}

# bed_systemd [FOLDER...]: a container whose PID 1 is Debian's real systemd
# (/lib/systemd/systemd), booted to basic.target with none of the host's
# enabled units. Its root is the host's / seen through an overlay whose upper
# layer is a folder of the bed (what it writes, /etc included, stays there
# across bed_systemd_reboot and goes with the bed), with
# /etc/systemd/system emptied at the first boot, a fresh /run, /tmp and a minimal /dev;
# private mount, PID, UTS, IPC, network (loopback only) and cgroup
# namespaces; its own cgroup oe-bed-$BED_ID in each hierarchy of the host
# (removed afterwards; systemd sees only that subtree). $BED_DIR is
# bind-mounted at the same path (read-write, shared with the host), each
# FOLDER too (read-only): the build and the sources. Nothing is mounted on
# the host. Exports BED_SYSTEMD_PID (its PID 1 as the host sees it) and
# BED_SYSTEMD_DIR.
bed_systemd() {
  local d=$BED_DIR/systemd f q=()
  [[ -z ${BED_SYSTEMD_DIR:-} ]] || bed_fail "bed_systemd called twice"
  [[ -x /lib/systemd/systemd ]] || bed_fail "no /lib/systemd/systemd: install Debian's systemd (.ci/packages.txt)"
  [[ $(stat -f -c %T /sys/fs/cgroup/systemd 2>/dev/null) == cgroupfs ||
     $(stat -f -c %T /sys/fs/cgroup 2>/dev/null) == cgroup2fs ]] \
    || bed_fail "bed_systemd: no name=systemd cgroup hierarchy nor a cgroup v2 /sys/fs/cgroup"
  mkdir -p "$d/rootfs" "$d/layer"
  # Parents first, so that a folder inside another stays visible.
  while IFS= read -r -d '' f; do
    if [[ $f == "$BED_DIR" ]]; then q+=("rw $(printf %q "$f")"); else q+=("ro $(printf %q "$f")"); fi
  done < <(printf '%s\0' "$BED_DIR" "$@" | sort -z -u)
  cat >"$d/boot.sh" <<BOOT
set -eu
R=$(printf %q "$d/rootfs") L=$(printf %q "$d/layer")
mkdir -p "\$L/upper" "\$L/work"
mount -t overlay bed-systemd -o "lowerdir=/,upperdir=\$L/upper,workdir=\$L/work" "\$R"
mount -t tmpfs -o mode=755,nosuid bed-dev "\$R/dev"
# Device nodes of its own, not binds of the host's: a chmod or chown in
# there (a getty takes /dev/console) must not reach the host's /dev/null.
for n in null:1:3 zero:1:5 full:1:7 random:1:8 urandom:1:9 tty:5:0 console:1:3; do
  IFS=: read -r f major minor <<<"\$n"
  mknod -m 666 "\$R/dev/\$f" c "\$major" "\$minor"
done
mkdir "\$R/dev/pts" "\$R/dev/shm"
mount -t devpts -o newinstance,ptmxmode=0666,mode=620 devpts "\$R/dev/pts"
ln -s pts/ptmx "\$R/dev/ptmx"; ln -s /proc/self/fd "\$R/dev/fd"
mount -t proc proc "\$R/proc"
# read-only, as in systemd-nspawn: no udev in there acting on the host's devices
mount -t sysfs -o ro,nosuid,nodev,noexec sysfs "\$R/sys"
if [ "\$(stat -f -c %T /sys/fs/cgroup)" = cgroup2fs ]; then
  mount -t cgroup2 cgroup2 "\$R/sys/fs/cgroup"
else
  mount -t tmpfs -o mode=755 bed-cgroup "\$R/sys/fs/cgroup"
  mkdir "\$R/sys/fs/cgroup/systemd"
  mount -t cgroup -o none,name=systemd cgroup "\$R/sys/fs/cgroup/systemd"
fi
mount -t tmpfs -o mode=755 bed-run "\$R/run"
mount -t tmpfs -o mode=1777 bed-tmp "\$R/tmp"
if [ ! -e "\$L/booted" ]; then
  rm -rf "\$R"/etc/systemd/system/*
  # no login prompts (multi-user.target after bed_systemd_reboot): the console is a null device
  for u in getty.target console-getty.service; do ln -s /dev/null "\$R/etc/systemd/system/\$u"; done
  touch "\$L/booted"
fi
bind() {
  mkdir -p "\$R\$2"
  mount --bind "\$2" "\$R\$2"
  if [ "\$1" = ro ]; then mount -o remount,bind,ro "\$R\$2"; fi
}
$(for e in "${q[@]}"; do echo "bind $e"; done)
cd "\$R"
old=\$(mktemp -d .bed-old.XXXXXX)
pivot_root . "\$old"
umount -l "/\$old"
rmdir "/\$old"
# oe.bed=...: ignored by systemd; names the bed in its command line (_bed_dir_pids)
exec env -i container=oe-bed TERM=dumb /lib/systemd/systemd --unit="\$1" --log-target=console \\
  $(printf %q "oe.bed=$BED_DIR")
BOOT
  BED_SYSTEMD_DIR=$d
  export BED_SYSTEMD_DIR
  bed_on_exit _bed_systemd_stop "$d" "$BED_ID"
  _bed_systemd_boot basic.target
}

# bed_systemd_reboot: a power failure, then a boot. Every process of the
# container is killed at once (SIGKILL to its PID 1 ends its PID namespace),
# then it boots again on the same upper layer, to multi-user.target this
# time, so that the units enabled in it start by themselves as on a real
# host. Exports the new BED_SYSTEMD_PID.
bed_systemd_reboot() {
  local pid deadline
  [[ -n ${BED_SYSTEMD_PID:-} ]] || bed_fail "bed_systemd is not running"
  pid=$(_bed_pidfile "$BED_SYSTEMD_DIR/unshare.pid")
  kill -KILL "$BED_SYSTEMD_PID"
  deadline=$((SECONDS + 20))
  while _bed_alive "$pid"; do
    ((SECONDS < deadline)) || bed_fail "the systemd container did not die"
    sleep 0.1
  done
  _bed_cgroups_remove "$BED_ID"  # and the cgroups its systemd made
  _bed_systemd_boot multi-user.target
}

# _bed_systemd_boot TARGET: starts the container of bed_systemd and waits until its systemd has booted.
_bed_systemd_boot() {
  local d=$BED_SYSTEMD_DIR cg dirs=() pid child deadline
  while read -r cg; do
    [[ -n $cg ]] || continue
    mkdir -p "$cg/oe-bed-$BED_ID"
    if [[ -e $cg/cpuset.cpus ]]; then
      cat "$cg/cpuset.cpus" >"$cg/oe-bed-$BED_ID/cpuset.cpus"
      cat "$cg/cpuset.mems" >"$cg/oe-bed-$BED_ID/cpuset.mems"
    fi
    dirs+=("$cg/oe-bed-$BED_ID")
  done < <(_bed_cgroup_dirs)
  (
    for c in "${dirs[@]}"; do echo "$BASHPID" >"$c/cgroup.procs"; done
    exec unshare --mount --pid --fork --kill-child --uts --ipc --net --cgroup --propagation private \
      bash "$d/boot.sh" "$1"
  ) </dev/null >>"$d/console.log" 2>&1 &
  pid=$!
  echo "$pid" >"$d/unshare.pid"
  deadline=$((SECONDS + 20))
  until child=$(pgrep -P "$pid") && [[ $(readlink "/proc/$child/exe") == */systemd/systemd ]]; do
    _bed_alive "$pid" || { cat "$d/console.log" >&2; bed_fail "the systemd container did not start"; }
    ((SECONDS < deadline)) || { cat "$d/console.log" >&2; bed_fail "the systemd container did not start"; }
    sleep 0.1
  done
  BED_SYSTEMD_PID=$child
  export BED_SYSTEMD_PID
  bed_wait 60 "systemd in the container to boot" _bed_systemd_booted
  bed_log "systemd: PID 1 of a container, $BED_SYSTEMD_PID on the host" \
    "($(bed_systemd_exec systemctl is-system-running 2>/dev/null || :))"
}

_bed_systemd_booted() {
  local state
  state=$(bed_systemd_exec systemctl is-system-running 2>/dev/null) || :
  [[ $state == running || $state == degraded ]]
}

# bed_systemd_exec CMD...: run CMD in the container (all its namespaces, its
# root), with this shell's environment.
bed_systemd_exec() {
  [[ -n ${BED_SYSTEMD_PID:-} ]] || bed_fail "bed_systemd is not running"
  nsenter -t "$BED_SYSTEMD_PID" -m -u -i -n -p -C -r -- "$@"
}

# ---------------------------------------------------------------- runit as init

# bed_runit: a host without systemd whose init supervises /etc/service with
# runit, as Debian's runit-run does under sysvinit, runit-init's stage 2,
# or a vserver whose PID 1 is runsvdir: `runsvdir -P /etc/service` as PID 1
# of private PID and mount namespaces (with their own /proc), /etc/service
# being a folder of the bed ($BED_RUNIT_DIR/service, kept across
# bed_runit_reboot). Files and network are the host's. Exports
# BED_RUNIT_PID (its PID 1 as the host sees it) and BED_RUNIT_DIR.
bed_runit() {
  [[ -z ${BED_RUNIT_DIR:-} ]] || bed_fail "bed_runit called twice"
  [[ -e /etc/service && -x /usr/bin/runsvdir ]] || bed_fail "no /etc/service or runsvdir: install Debian's runit"
  BED_RUNIT_DIR=$BED_DIR/runit
  mkdir -p "$BED_RUNIT_DIR/service"
  export BED_RUNIT_DIR
  bed_on_exit _bed_runit_stop
  _bed_runit_boot
}

# bed_runit_reboot: a power failure (SIGKILL to its PID 1 ends the PID
# namespace and every process in it), then a boot: runsvdir on the same
# /etc/service. Exports the new BED_RUNIT_PID.
bed_runit_reboot() {
  [[ -n ${BED_RUNIT_PID:-} ]] || bed_fail "bed_runit is not running"
  _bed_runit_stop
  _bed_runit_boot
}

_bed_runit_boot() {
  local d=$BED_RUNIT_DIR pid deadline
  # /etc/service is a link (to runit/runsvdir/current): the bind goes on its target.
  unshare --mount --pid --fork --kill-child --propagation private --mount-proc \
    sh -c 'mount --bind "$1" "$(readlink -f /etc/service)" && exec runsvdir -P /etc/service "log: ..........."' \
    bed-runit "$d/service" </dev/null >>"$d/console.log" 2>&1 &
  pid=$!
  echo "$pid" >"$d/unshare.pid"
  deadline=$((SECONDS + 20))
  until BED_RUNIT_PID=$(pgrep -P "$pid") && [[ $(readlink "/proc/$BED_RUNIT_PID/exe") == /usr/bin/runsvdir ]]; do
    _bed_alive "$pid" && ((SECONDS < deadline)) || { cat "$d/console.log" >&2; bed_fail "bed_runit: runsvdir did not start"; }
    sleep 0.1
  done
  export BED_RUNIT_PID
  bed_log "runit: runsvdir on /etc/service as PID 1, $BED_RUNIT_PID on the host"
}

# bed_runit_exec CMD...: run CMD on that host (its mount and PID namespaces),
# with this shell's environment.
bed_runit_exec() {
  [[ -n ${BED_RUNIT_PID:-} ]] || bed_fail "bed_runit is not running"
  nsenter -t "$BED_RUNIT_PID" -m -p -- "$@"
}

_bed_runit_stop() {
  local pid deadline
  pid=$(_bed_pidfile "$BED_RUNIT_DIR/unshare.pid") || return 0
  [[ -n ${BED_RUNIT_PID:-} ]] && kill -KILL "$BED_RUNIT_PID" 2>/dev/null
  deadline=$((SECONDS + 20))
  while _bed_alive "$pid"; do
    ((SECONDS < deadline)) || { _bed_kill 5 "$pid"; break; }
    sleep 0.1
  done
  BED_RUNIT_PID=
}

_bed_systemd_stop() {
  local d=$1 id=$2 pid child deadline
  pid=$(_bed_pidfile "$d/unshare.pid") || { _bed_cgroups_remove "$id"; return 0; }
  if _bed_alive "$pid"; then
    if child=$(pgrep -P "$pid"); then
      nsenter -t "$child" -m -u -i -n -p -C -r -- systemctl --no-block poweroff >/dev/null 2>&1
    fi
    deadline=$((SECONDS + 30))
    while _bed_alive "$pid" && ((SECONDS < deadline)); do sleep 0.1; done
    _bed_alive "$pid" && { bed_log "systemd did not power off: killing the container"; _bed_kill 5 "$pid"; }
  fi
  _bed_cgroups_remove "$id"
}
