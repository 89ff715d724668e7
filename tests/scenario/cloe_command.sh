# SPDX-License-Identifier: GPL-3.0-or-later
# `cloe command` on three real LXC vservers of one group, on the referee's own
# node against the bed's private libvirtd: per-vserver results (exit codes,
# output = each vserver's hostname, a command that fails in one: exit 1);
# --parallel 3 of `sleep 2` clearly faster than one at a time; --user nobody;
# the seed's string form through /bin/sh -c; a run killed after the first
# vserver (OE_CRASH_AT), then --resume JOB runs only the others (a line
# appended inside per run, counted); a stopped vserver: a failed result,
# nothing run; a name that is both a vserver and a group; bad input: one
# line, the documented exit code, nothing run.
source "$OE_SOURCE_DIR/tests/cloe/lib.sh"
cloe_template
cloe_vservers
bed_bridge cm
br=$BED_BRIDGE_CM hostip=$BED_BRIDGE_CM_IP
net=${hostip%.*}.0/24

R=$BED_DIR/root
mkdir -p "$R/var/lib/oe/cloe/templates"
ln -s "$CLOE_CACHE/var/lib/oe/cloe/templates/base" "$R/var/lib/oe/cloe/templates/base"
export OE_CLOE_LIBVIRT_URI=$BED_LIBVIRT_URI OE_CLOE_NETWORK_BRIDGE=$br OE_CLOE_LOCKS_WAIT=0
C() { cloe --root "$R" "$@"; }
json() { /usr/bin/python3 -c 'import json, sys; d = json.load(sys.stdin); print(eval(sys.argv[1]))' "$1"; }
db=$R/var/lib/oe/referee.db
id=${BED_ID,,}
a=ca-$id b=cb-$id c=cc-$id
for n in ca cb cc; do cloe_vserver_name "$n"; done
_down() { local n; for n in "$a" "$b" "$c"; do C vserver destroy "$n" --force >/dev/null 2>&1 || true; done; }
bed_on_exit _down

C cluster init t --network "$net" --gateway "$hostip" >/dev/null
C @t node add n0 --local --address "${hostip%.*}.2" --storage "ssd=$CLOE_STORAGE" --memory 2G --cpus 2 >/dev/null
for n in "$a" "$b" "$c"; do C @t vserver create "$n" --memory 128M --disk 96M --group grp >/dev/null; done
ok "three vservers in group grp"

# ---------------------------------------------------------------- results
E "$a" touch /root/marker
E "$b" touch /root/marker
rc=0
out=$(C @t command grp --json -- sh -c 'test -e /root/marker && hostname') || rc=$?
bed_assert_eq 1 "$rc" "exit when one vserver fails"
bed_assert_eq "$a:0:$a $b:0:$b $c:1:" \
  "$(json '" ".join(r["vserver"]+":"+str(r["exit"])+":"+r["stdout"].strip() for r in d["results"])' <<<"$out")" \
  "per-vserver exit and output (the hostname)"
bed_assert_eq "False" "$(json 'd["ok"]' <<<"$out")" "ok false"
job=$(json 'd["job"]' <<<"$out")
[[ $job =~ ^[0-9]+$ ]] || bed_fail "job id '$job'"
rc=0
table=$(C @t command grp -- hostname) || rc=$?
bed_assert_eq 0 "$rc" "exit when all succeed"
bed_assert_contains "$table" "3 of 3 vservers succeeded" "table footer"
bed_assert_contains "$table" "job " "the job id in the footer"
for n in "$a" "$b" "$c"; do
  bed_assert_contains "$(grep -F "$n" <<<"$table")" "$n" "table row of $n"
done
bed_assert_eq "$b" "$(C @t command "$b" --json -- hostname | json '" ".join(r["stdout"].strip() for r in d["results"])')" "a single vserver as the target"
ok "results per vserver: exit codes, hostnames, exit 1 when one fails; table and JSON"

# ---------------------------------------------------------------- parallel
t0=$(date +%s.%N)
C @t command grp -- sleep 2 >/dev/null
t1=$(date +%s.%N)
C @t command grp --parallel 3 -- sleep 2 >/dev/null
t2=$(date +%s.%N)
seq_s=$(echo "$t1 - $t0" | bc) par_s=$(echo "$t2 - $t1" | bc)
bed_log "sequential $seq_s s, --parallel 3 $par_s s"
(($(echo "$seq_s >= 6" | bc))) || bed_fail "sequential took $seq_s s (< 6 s for 3 x sleep 2)"
(($(echo "$par_s * 1.5 < $seq_s" | bc))) || bed_fail "--parallel 3 ($par_s s) not clearly faster than sequential ($seq_s s)"
ok "--parallel 3 of sleep 2: $par_s s against $seq_s s one at a time"

# ---------------------------------------------------------------- user, seed
bed_assert_eq "65534 65534 65534" "$(C @t command grp --user nobody --json -- id -u | json '" ".join(r["stdout"].strip() for r in d["results"])')" "--user nobody"
bed_assert_eq "0" "$(C @t command "$a" --json -- id -u | json '" ".join(r["stdout"].strip() for r in d["results"])')" "root by default"
out=$(cloe --root "$R" @t --command grp root 'hostname; echo "x  y" | tr -s " "' --json)
bed_assert_eq "$a/x y $b/x y $c/x y" "$(json '" ".join(r["stdout"].replace("\n","/").strip("/") for r in d["results"])' <<<"$out")" "the seed's form through /bin/sh -c"
bed_assert_eq "65534" "$(cloe --root "$R" @t --command "$a" nobody 'id -u' --json | json 'd["results"][0]["stdout"].strip()')" "the seed's form with a user"
ok "--user nobody is 65534 inside; the seed's @t --command GROUP USER \"STRING\" through /bin/sh -c"

# ---------------------------------------------------------------- killed, resumed
rc=0
OE_CRASH_AT=cloe.command:$b C -v @t command grp -- sh -c 'echo run >> /root/runs' >/dev/null 2>"$BED_DIR/killed" || rc=$?
bed_assert_eq 137 "$rc" "a run killed before the second vserver"
cjob=$(sqlite3 "$db" "select max(id) from job where kind = 'cloe.command'")
bed_assert_contains "$(cat "$BED_DIR/killed")" "command job $cjob on 3 vservers (resume with --resume $cjob)" "the job id logged before the kill"
counts() { local n; for n in "$a" "$b" "$c"; do E "$n" sh -c 'cat /root/runs 2>/dev/null | wc -l'; done | tr '\n' ' '; }
bed_assert_eq "1 0 0 " "$(counts)" "lines after the killed run"
out=$(C @t command grp --resume "$cjob" --json)
bed_assert_eq "1 1 1 " "$(counts)" "lines after --resume: only the others ran"
bed_assert_eq "$cjob True" "$(json 'str(d["job"])+" "+str(d["ok"])' <<<"$out")" "job id and result of the resume"
bed_assert_eq "True False False" "$(json '" ".join(str(r["resumed"]) for r in d["results"])' <<<"$out")" "the earlier result reported as such"
out=$(C @t command grp --resume "$cjob" --json)
bed_assert_eq "1 1 1 " "$(counts)" "a resume of a finished job runs nothing"
bed_assert_eq 3 "$(json 'len(d["results"])' <<<"$out")" "and reports all three"
ok "killed after $a, --resume $cjob ran only $b and $c and reported all three"

# ---------------------------------------------------------------- timeout
t0=$SECONDS rc=0
out=$(C @t command "$a" --timeout 1 --json -- sleep 30) || rc=$?
bed_assert_eq 1 "$rc" "exit of a command that timed out"
bed_assert_eq "True True" "$(json 'str(d["results"][0]["timed_out"])+" "+str(d["results"][0]["ran"])' <<<"$out")" "timed out"
((SECONDS - t0 < 10)) || bed_fail "--timeout 1 of sleep 30 took $((SECONDS - t0)) s"
[[ -z $(E "$a" sh -c 'ps -eo args= | grep -x "sleep 30" || true') ]] || bed_fail "the sleep is left running inside $a"
ok "--timeout 1: killed inside, reported as timed out"

# ---------------------------------------------------------------- not running, both
C @t vserver stop "$c" >/dev/null
rc=0
out=$(C @t command grp --json -- true) || rc=$?
bed_assert_eq 1 "$rc" "exit with a stopped vserver"
bed_assert_eq "True True False" "$(json '" ".join(str(r["ran"]) for r in d["results"])' <<<"$out")" "the stopped one did not run"
bed_assert_contains "$(json 'd["results"][2]["stderr"]' <<<"$out")" "does not run" "why"
C @t vserver start "$c" >/dev/null
ok "a stopped vserver: a failed result saying so, nothing run there"

# ---------------------------------------------------------------- bad input
sum() { sqlite3 "$db" .dump | sha256sum | cut -d' ' -f1; }
before=$(sum)
runs=$(counts)
expect() {  # expect CODE PART ARGS...: one line holding PART, the exit code, nothing run, the inventory unchanged
  local code=$1 part=$2 rc=0 err
  shift 2
  C "$@" >/dev/null 2>"$BED_DIR/err" || rc=$?
  err=$(cat "$BED_DIR/err")
  bed_assert_eq "$code" "$rc" "exit of cloe $*"
  bed_assert_contains "$err" "$part" "error of cloe $*"
  bed_assert_eq 1 "$(grep -c . <<<"$err")" "lines of the error of cloe $*: $err"
  bed_assert_eq "$before" "$(sum)" "the inventory after cloe $*"
  bed_assert_eq "$runs" "$(counts)" "nothing run by cloe $*"
}
expect 3 "no vserver and no group nosuch in cluster t" @t command nosuch -- sh -c 'echo run >> /root/runs'
expect 3 "no cluster nosuch" @nosuch command grp -- sh -c 'echo run >> /root/runs'
expect 2 "--user 'x;y'" @t command grp --user 'x;y' -- sh -c 'echo run >> /root/runs'
expect 2 "--user 'Root'" @t command grp --user Root -- sh -c 'echo run >> /root/runs'
expect 2 "--parallel 0" @t command grp --parallel 0 -- sh -c 'echo run >> /root/runs'
expect 2 "--timeout 0" @t command grp --timeout 0 -- sh -c 'echo run >> /root/runs'
expect 2 "--order 'x'" @t command grp --order x -- sh -c 'echo run >> /root/runs'
expect 2 "no command" @t command grp
expect 2 "target 'Bad Name'" @t command 'Bad Name' -- sh -c 'echo run >> /root/runs'
expect 3 "no command job 999999" @t command grp --resume 999999
expect 4 "command job $cjob ran on grp, not $a" @t command "$a" --resume "$cjob"
expect 4 "command job $cjob ran another command" @t command grp --resume "$cjob" -- true
expect 2 "--seed" @t command --seed grp root
sqlite3 "$db" "insert into vserver_groups (vserver, group_name) values ('$b', '$a')"
before=$(sum)
expect 4 "$a is both a vserver and a group ($b) of cluster t" @t command "$a" -- sh -c 'echo run >> /root/runs'
bed_assert_eq "$b" "$(C @t command "group:$a" --json -- hostname | json 'd["results"][0]["stdout"].strip()')" "group:NAME settles it"
ok "bad input: one line, its exit code, nothing run, the inventory unchanged; both a vserver and a group: conflict"
bed_log "all ok"
