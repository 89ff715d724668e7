# SPDX-License-Identifier: GPL-3.0-or-later
# `cloe save`, `backup`, `restore`, `backup list|verify` on the referee's own
# node against the bed's private libvirtd, from the cached template of
# scenario.cloe_template (issue 16, items 9, 11, 13): files checksummed
# inside a vserver, a backup, an unchanged second backup that adds almost
# nothing, a change and a third; restore in place (refused while it runs
# without --force) gives the first one's files back, restore --as a new
# vserver after a destroy gives the newest (owners shifted to the new id
# range, a file deleted from the template still deleted); save; verify
# (scratch vserver started, probed, destroyed; the restore time recorded);
# retention; a stopped vserver's backup. Item 11: a symlink to a host file
# and a setuid program planted inside are backed up and restored as a link
# and a setuid file: the host file neither copied nor changed, the program
# never run on the node. Kills at every step of backup and of restore (in
# place and --as), then the same command converges: the vserver runs,
# thawed, nothing left (mount, image, row, pending file). A corrupt
# repository: verify and restore fail with one line, nothing changes. Bad
# input: one line, the documented exit code, the inventory byte-identical.
source "$OE_SOURCE_DIR/tests/cloe/lib.sh"
cloe_template
cloe_vservers
command -v restic >/dev/null || bed_fail "restic is not installed (.ci/packages.txt)"
bed_bridge bk
br=$BED_BRIDGE_BK hostip=$BED_BRIDGE_BK_IP
net=${hostip%.*}.0/24

R=$BED_DIR/root
mkdir -p "$R/var/lib/oe/cloe/templates"
ln -s "$CLOE_CACHE/var/lib/oe/cloe/templates/base" "$R/var/lib/oe/cloe/templates/base"
export OE_CLOE_LIBVIRT_URI=$BED_LIBVIRT_URI OE_CLOE_NETWORK_BRIDGE=$br OE_CLOE_LOCKS_WAIT=0
C() { cloe --root "$R" "$@"; }
json() { /usr/bin/python3 -c 'import json, sys; d = json.load(sys.stdin); print(eval(sys.argv[1]))' "$1"; }
db=$R/var/lib/oe/referee.db
id=${BED_ID,,}
a=a-$id a2=a2-$id k=k-$id
for n in a a2 k; do cloe_vserver_name "$n"; done
_down() {  # whatever a failure leaves, scratch vservers of verify included
  local n
  for n in $(sqlite3 "$db" "select name from vservers" 2>/dev/null); do C @t vserver destroy "$n" --force >/dev/null 2>&1 || true; done
  for n in $(virsh -c "$BED_LIBVIRT_URI" list --all --name 2>/dev/null | grep '^verify-' || true); do
    vserver_probe down "$BED_LIBVIRT_URI" "$CLOE_STORAGE" "$n" 2>/dev/null || true
  done
  for n in $(findmnt -rn -o TARGET | grep -F "$CLOE_STORAGE/" | sort -r || true); do umount -l "$n" || true; done
}
bed_on_exit _down

C cluster init t --network "$net" --gateway "$hostip" >/dev/null
C @t node add n0 --local --address "${hostip%.*}.2" --storage "ssd=$CLOE_STORAGE" --memory 4G --cpus 2 >/dev/null
repo=$CLOE_STORAGE/backups/t key=$R/var/lib/oe/cloe/backup/t.key
RS() { restic --repo "$repo" --password-file "$key" --no-cache --quiet "$@"; }
sums() {  # sums NAME: checksums, modes and owners of /srv/data inside, and whether /etc/issue.net is there
  E "$1" sh -c 'cd /srv/data && find . -printf "%p %y %m %U:%G %l\n" | sort && find . -type f -print0 | sort -z | xargs -0 sha256sum; test -e /etc/issue.net && echo issue.net || echo no-issue.net'
}
nomounts() {  # nomounts WHAT: no mount, image or folder of backup and restore left for vserver $2
  [[ -z $(findmnt -rn -o TARGET | grep -F "$CLOE_STORAGE/vservers/$2." || true) ]] || bed_fail "$1: mounts left: $(findmnt -rn -o TARGET | grep -F "$CLOE_STORAGE/vservers/$2.")"
  [[ -z $(ls -d "$CLOE_STORAGE/vservers/$2".* 2>/dev/null || true) ]] || bed_fail "$1: files left: $(ls -d "$CLOE_STORAGE/vservers/$2".*)"
  [[ -z $(ls "$R/var/lib/oe/cloe/backup/pending" 2>/dev/null || true) ]] || bed_fail "$1: pending files left"
}
runs() {  # runs NAME WHAT: the vserver runs (not frozen) and answers a command
  bed_assert_eq running "$(virsh -c "$BED_LIBVIRT_URI" domstate "$1" | head -n 1)" "$2: libvirt's state of $1"
  bed_assert_eq 0 "$(timeout 20 cloe __enter "$BED_LIBVIRT_URI" "$1" id -u)" "$2: a command inside $1"
}
rows_match() {  # rows_match NAME WHAT: the catalogue holds a row for each of its snapshots, no other
  local want got
  want=$(RS snapshots --json --host "$1" | json '" ".join(sorted(s["short_id"] for s in d))')
  got=$(sqlite3 "$db" "select snapshot from backups where vserver = '$1' order by snapshot" | tr '\n' ' ' | sed 's/ $//')
  bed_assert_eq "$want" "$got" "$2: catalogue rows of $1 = its snapshots"
}

# ---------------------------------------------------------------- backup, restore
C @t vserver create "$a" --memory 256M --disk 256M >/dev/null
E "$a" sh -c 'mkdir -p /srv/data/sub && head -c 3000000 /dev/urandom > /srv/data/big && echo hello > /srv/data/small &&
  ln -s small /srv/data/link && echo deep > /srv/data/sub/deep && chmod 640 /srv/data/sub/deep && chown 1000:1000 /srv/data/sub/deep'
sums1=$(sums "$a")
bed_assert_contains "$sums1" "./sub/deep f 640 1000:1000" "a file of user 1000 inside"
out=$(C @t backup "$a" --json)
id1=$(json 'd["backup"]["id"]' <<<"$out") added1=$(json 'd["backup"]["bytes"]' <<<"$out")
((added1 > 2500000)) || bed_fail "the first backup added $added1 bytes"
bed_assert_eq "backup restic base n0" "$(json 'd["backup"]["kind"]+" "+d["backup"]["tool"]+" "+d["backup"]["contents"]["template"]+" "+d["backup"]["node"]' <<<"$out")" "the catalogue entry"
bed_assert_eq "600" "$(stat -c %a "$key")" "mode of the repository key"
[[ -e $repo/config ]] || bed_fail "no restic repository at $repo"
runs "$a" "after the first backup"
out=$(C @t backup "$a" --json)
id2=$(json 'd["backup"]["id"]' <<<"$out") added2=$(json 'd["backup"]["bytes"]' <<<"$out")
((added2 < 20000)) || bed_fail "an unchanged second backup added $added2 bytes (the first $added1)"
ok "backup $id1 added $added1 bytes; the unchanged backup $id2 added $added2"

E "$a" sh -c 'echo changed > /srv/data/small && rm /srv/data/big && rm /etc/issue.net && echo new > /srv/data/new'
sums3=$(sums "$a")
[[ $sums3 != "$sums1" ]] || bed_fail "the change changed nothing"
id3=$(C @t backup "$a" --json | json 'd["backup"]["id"]')
bed_assert_eq "$id3 $id2 $id1" "$(C @t backup list "$a" --json | json '" ".join(str(b["id"]) for b in d["backups"])')" "backup list"
C @t backup list >/dev/null

rc=0
C @t restore "$a" --backup "$id1" >/dev/null 2>"$BED_DIR/err" || rc=$?
bed_assert_eq 4 "$rc" "restore in place of a running vserver without --force"
bed_assert_contains "$(cat "$BED_DIR/err")" "runs: restore replaces its files" "its error"
C @t restore "$a" --backup "$id1" --force >/dev/null
bed_assert_eq "$sums1" "$(sums "$a")" "the files of backup $id1 after restore in place"
nomounts "restore in place" "$a"
ok "restore in place (--force) of backup $id1: the same files, owners and modes; /etc/issue.net back"

C @t vserver destroy "$a" --force >/dev/null
out=$(C @t restore "$a" --as "$a2" --json)
a2ip=$(json 'd["ip"]' <<<"$out")
bed_assert_eq "$sums3" "$(sums "$a2")" "the files of the newest backup ($id3) in $a2"
base2=$(C @t vserver show "$a2" --json | json 'd["vserver"]["id_base"]')
bed_assert_eq "$((base2 + 1000))" "$(stat -c %u "$CLOE_STORAGE/vservers/$a2/root/srv/data/sub/deep")" "host owner of user 1000's file in $a2"
bed_assert_eq "268435456 268435456" "$(C @t vserver show "$a2" --json | json 'str(d["vserver"]["memory"])+" "+str(d["vserver"]["disk"])')" "the recorded quotas of $a2"
nomounts "restore --as" "$a2"
ok "destroyed $a, restored --as $a2 ($a2ip): the newest files, owners shifted to its ids, its quotas"

out=$(C @t backup verify "$id3" --json)
bed_assert_eq "True true" "$(json 'str(d["ok"])+" "+d["probe"]' <<<"$out")" "verify"
rs=$(sqlite3 "$db" "select restore_seconds from backups where id = $id3")
[[ -n $rs && -n $(sqlite3 "$db" "select verified from backups where id = $id3") ]] || bed_fail "verify recorded nothing"
[[ -z $(virsh -c "$BED_LIBVIRT_URI" list --all --name | grep '^verify-' || true) ]] || bed_fail "a scratch vserver left"
bed_assert_eq 0 "$(sqlite3 "$db" "select count(*) from vservers where name like 'verify-%'")" "scratch vservers in the inventory"
ok "verify $id3: restored into a scratch vserver in $rs s, started, probed, destroyed"

out=$(C @t save "$a2" --json)
bed_assert_eq "save $a2" "$(json 'd["backup"]["kind"]+" "+d["backup"]["vserver"]' <<<"$out")" "save"
for i in 1 2 3; do C @t backup "$a2" --retention 2 >/dev/null; done
bed_assert_eq 2 "$(RS snapshots --json --host "$a2" --tag kind=backup | json 'len(d)')" "backups of $a2 kept with --retention 2"
bed_assert_eq 1 "$(RS snapshots --json --host "$a2" --tag kind=save | json 'len(d)')" "saves of $a2 kept apart from the backups"
rows_match "$a2" "retention"
C @t vserver stop "$a2" >/dev/null
C @t backup "$a2" --retention 2 >/dev/null
bed_assert_eq "shut off" "$(virsh -c "$BED_LIBVIRT_URI" domstate "$a2" | head -n 1)" "a stopped vserver stays stopped"
nomounts "backup of a stopped vserver" "$a2"
C @t vserver start "$a2" >/dev/null
ok "save; retention keeps the last 2 backups (and the save), the catalogue follows; a stopped vserver backed up"

# ---------------------------------------------------------------- item 11: hostile files
# What the catalogue learns inside is read without following a link: oe-xoe's
# version from the layer's dpkg status; a status made a link to a host file
# is not read through.
E "$a2" sh -c "printf '\nPackage: oe-xoe\nStatus: install ok installed\nVersion: 9.9-test\n\n' >> /var/lib/dpkg/status"
bed_assert_eq "9.9-test" "$(C @t backup "$a2" --retention 10 --json | json 'd["backup"]["contents"]["software"]["oe-xoe"]')" "oe-xoe's version in the catalogue"
printf 'Package: oe-xoe\nVersion: from-the-host\n\n' >"$BED_DIR/fake-status"
E "$a2" sh -c "rm /var/lib/dpkg/status && ln -s '$BED_DIR/fake-status' /var/lib/dpkg/status"
secret=$BED_DIR/host-secret marker=$BED_DIR/ran-on-the-node
head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$secret"
chmod 600 "$secret"
secret_sum=$(sha256sum <"$secret")
E "$a2" sh -c "ln -s '$secret' /srv/evil && ln -s / /srv/rootlink && printf '#!/bin/sh\ntouch $marker\n' > /srv/suid && chmod 4755 /srv/suid &&
  cp /bin/true /srv/suid-bin && chmod 6755 /srv/suid-bin"
idh=$(C @t backup "$a2" --retention 10 --json | json 'd["backup"]["id"]')
snap=$(sqlite3 "$db" "select snapshot from backups where id = $idh")
bed_assert_eq "{}" "$(sqlite3 "$db" "select json_extract(contents, '$.software') from backups where id = $idh")" "software read through a planted link"
lsj=$(RS ls --json "$snap")
bed_assert_contains "$lsj" "\"name\":\"evil\",\"type\":\"symlink\"" "the planted link in the snapshot, as a link"
[[ $lsj != *"$(cat "$secret")"* ]] || bed_fail "the host secret is in the snapshot's listing"
C @t restore "$a2" --force >/dev/null
bed_assert_eq "$secret" "$(E "$a2" readlink /srv/evil)" "the link after the restore"
bed_assert_eq "4755 0" "$(E "$a2" stat -c '%a %u' /srv/suid)" "the setuid program keeps its mode and owner inside"
bed_assert_eq "6755" "$(E "$a2" stat -c '%a' /srv/suid-bin)" "the setuid-setgid binary keeps its mode"
bed_assert_eq "$secret_sum" "$(sha256sum <"$secret")" "the host file after backup and restore"
bed_assert_eq "600 0" "$(stat -c '%a %u' "$secret")" "the host file's mode and owner"
[[ ! -e $marker ]] || bed_fail "the planted program ran on the node"
rc=0; E "$a2" cat /srv/evil >/dev/null 2>&1 || rc=$?
((rc != 0)) || bed_fail "the host file is readable through the link inside"
[[ ! -L $CLOE_STORAGE/vservers/$a2/root/srv/evil || $(readlink "$CLOE_STORAGE/vservers/$a2/layer/upper/srv/evil") == "$secret" ]] || bed_fail "link"
[[ ! -e $CLOE_STORAGE/vservers/$a2/layer/upper/srv/evil || -L $CLOE_STORAGE/vservers/$a2/layer/upper/srv/evil ]] || bed_fail "the link became a file"
ok "item 11: a link to a host file and setuid programs backed up and restored as they are; the host file unchanged, nothing run; dpkg's status not read through a link"

# ---------------------------------------------------------------- kills
sum_a2=$(sums "$a2")
for step in repository mount freeze snapshot thaw record retention release; do
  for when in "" ":after"; do
    rc=0
    OE_CRASH_AT=cloe.backup:$step$when C @t backup "$a2" --retention 10 >/dev/null 2>&1 || rc=$?
    bed_assert_eq 137 "$rc" "backup killed at $step$when"
    if [[ $step$when == freeze:after || $step == snapshot || $step$when == thaw ]]; then
      # Killed while it held the vserver frozen: libvirt shows it paused until the next run.
      bed_assert_eq paused "$(virsh -c "$BED_LIBVIRT_URI" domstate "$a2" | head -n 1)" "the vserver during a backup killed at $step$when"
    fi
    C @t backup "$a2" --retention 10 >/dev/null || bed_fail "the backup killed at $step$when did not converge"
    runs "$a2" "backup killed at $step$when"
    nomounts "backup killed at $step$when" "$a2"
    rows_match "$a2" "backup killed at $step$when"
  done
done
ok "backup killed at each step: the next one finishes it; the vserver runs thawed; no mount, file or stale row"
rc=0
OE_CRASH_AT=cloe.backup:snapshot C @t backup "$a2" >/dev/null 2>&1 || rc=$?
bed_assert_eq 137 "$rc" "backup killed at snapshot"
rc=0
C @t restore "$a2" --force >/dev/null 2>"$BED_DIR/err" || rc=$?
bed_assert_eq 4 "$rc" "restore while a killed backup holds the layer"
bed_assert_contains "$(cat "$BED_DIR/err")" "a backup of vserver $a2 was interrupted: run cloe backup $a2" "its error"
C @t backup "$a2" --retention 10 >/dev/null
runs "$a2" "the killed backup finished"
ok "restore refused while a killed backup holds the layer, until the next backup finishes it"

for step in fill stop swap start clean; do
  rc=0
  OE_CRASH_AT=cloe.restore:$step C @t restore "$a2" --force >/dev/null 2>&1 || rc=$?
  bed_assert_eq 137 "$rc" "restore killed at $step"
  C @t restore "$a2" --force >/dev/null || bed_fail "the restore killed at $step did not converge"
  runs "$a2" "restore killed at $step"
  bed_assert_eq "$sum_a2" "$(sums "$a2")" "the files after the restore killed at $step"
  nomounts "restore killed at $step" "$a2"
done
ok "restore in place killed at each step: the next one finishes it; the same files"

leftovers() {  # leftovers NAME: nothing of NAME anywhere
  [[ -z $(virsh -c "$BED_LIBVIRT_URI" list --all --name | grep -Fx "$1" || true) ]] || bed_fail "domain $1 left"
  [[ -z $(findmnt -rn -o TARGET | grep -F "$CLOE_STORAGE/vservers/$1" || true) ]] || bed_fail "mounts of $1 left"
  [[ -z $(ls -d "$CLOE_STORAGE/vservers/$1"* 2>/dev/null || true) ]] || bed_fail "files of $1 left"
  bed_assert_eq 0 "$(sqlite3 "$db" "select count(*) from vservers where name = '$1'")" "rows of $1"
}
for step in create fill swap start clean; do
  rc=0
  OE_CRASH_AT=cloe.restore:$step C @t restore "$a2" --as "$k" >/dev/null 2>&1 || rc=$?
  bed_assert_eq 137 "$rc" "restore --as killed at $step"
  C @t restore "$a2" --as "$k" >/dev/null || bed_fail "the restore --as killed at $step did not converge"
  bed_assert_eq "$sum_a2" "$(sums "$k")" "the files of $k after the restore --as killed at $step"
  C @t vserver destroy "$k" --force >/dev/null
  leftovers "$k"
done
ok "restore --as killed at each step: the next one finishes it; destroyed, nothing left"

# ---------------------------------------------------------------- bad input
dbsum() { sqlite3 "$db" .dump | sha256sum | cut -d' ' -f1; }
before=$(dbsum)
nbad=0
expect() {  # expect CODE PART ARGS...: one line on stderr holding PART, the exit code, the inventory unchanged
  local code=$1 part=$2 rc=0 err
  shift 2
  C "$@" >/dev/null 2>"$BED_DIR/err" || rc=$?
  err=$(cat "$BED_DIR/err")
  bed_assert_eq "$code" "$rc" "exit of cloe $*"
  bed_assert_contains "$err" "$part" "error of cloe $*"
  bed_assert_eq 1 "$(grep -c . <<<"$err")" "lines of the error of cloe $*: $err"
  bed_assert_eq "$before" "$(dbsum)" "the inventory after cloe $*"
  ((++nbad))
}
expect 3 "no vserver nosuch" @t backup nosuch
expect 3 "no vserver nosuch" @t save nosuch
expect 3 "no node nosuch" @t backup "$a2" --to nosuch
expect 2 "vserver name" @t backup 'Bad_Name'
expect 2 "node name" @t backup "$a2" --to '../x'
expect 2 "--retention 0" @t backup "$a2" --retention 0
expect 2 "--retention 5000" @t backup "$a2" --retention 5000
expect 3 "no cluster nosuch" @nosuch backup "$a2"
expect 3 "no backup 99999 of vserver $a2" @t restore "$a2" --backup 99999
expect 3 "no backup $idh of vserver nosuch" @t restore nosuch --backup "$idh"
expect 3 "no backup of vserver nosuch" @t restore nosuch
expect 3 "no backup 99999 in cluster t" @t backup verify 99999
expect 2 "backup id 0" @t backup verify 0
expect 4 "runs: restore replaces its files" @t restore "$a2"
expect 4 "exists already" @t restore "$a2" --as "$a2"
expect 2 "vserver name (--as)" @t restore "$a2" --as 'x;y'
expect 2 "--node: only with --as" @t restore "$a2" --node n0 --force
expect 3 "no cluster nosuch" @nosuch backup list
expect 2 "a VSERVER, or list or verify ID" @t backup
runs "$a2" "after the bad input"
ok "bad input: $nbad refusals, each one line with its exit code, the inventory byte-identical"

# ---------------------------------------------------------------- a corrupt repository
for p in $(find "$repo/data" -type f); do
  size=$(stat -c %s "$p")
  printf 'corrupt-corrupt-corrupt' | dd of="$p" bs=1 seek=$((size / 2)) conv=notrunc status=none
done
vs_before=$(sqlite3 "$db" "select name, ip, state from vservers order by name")
idc=$(C @t backup list "$a2" --json | json 'd["backups"][0]["id"]')  # its newest (retention forgot the older ones)
for cmd in "backup verify $idc" "restore $a2 --force --backup $idc" "restore $a2 --as $k"; do
  rc=0
  C @t $cmd >/dev/null 2>"$BED_DIR/err" || rc=$?
  err=$(cat "$BED_DIR/err")
  bed_assert_eq 5 "$rc" "exit of cloe $cmd on a corrupt repository: $err"
  bed_assert_eq 1 "$(grep -c . <<<"$err")" "lines of the error of cloe $cmd: $err"
  bed_assert_contains "$err" "restic restore of backup $idc failed" "error of cloe $cmd"
  bed_assert_eq "$vs_before" "$(sqlite3 "$db" "select name, ip, state from vservers order by name")" "vservers after cloe $cmd"
  runs "$a2" "after cloe $cmd on a corrupt repository"
  nomounts "cloe $cmd on a corrupt repository" "$a2"
  leftovers "$k"
  [[ -z $(virsh -c "$BED_LIBVIRT_URI" list --all --name | grep '^verify-' || true) ]] || bed_fail "a scratch vserver left after $cmd"
done
bed_assert_eq "$sum_a2" "$(sums "$a2")" "the files of $a2 after the failed restores"
ok "a corrupt repository: verify, restore in place and --as fail with one line (exit 5), nothing changed"

# A backup killed while it held the layer, then the vserver destroyed: nothing of it left.
rc=0
OE_CRASH_AT=cloe.backup:snapshot C @t backup "$a2" >/dev/null 2>&1 || rc=$?
bed_assert_eq 137 "$rc" "backup killed at snapshot"
[[ -n $(findmnt -rn -o TARGET | grep -F "$CLOE_STORAGE/vservers/$a2.backup" || true) ]] || bed_fail "the killed backup holds no mount"
C @t vserver destroy "$a2" --force >/dev/null
leftovers "$a2"
[[ -z $(findmnt -rn -o TARGET | grep -F "$CLOE_STORAGE/" || true) ]] || bed_fail "mounts left: $(findmnt -rn -o TARGET | grep -F "$CLOE_STORAGE/")"
bed_log "all ok"
