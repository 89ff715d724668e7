# SPDX-License-Identifier: GPL-3.0-or-later
# The bed's sshd accepts the bed's key, with the host key pinned (no prompt).
source "${OE_SOURCE_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}/tests/bed/bed.sh"
bed_init
bed_sshd

ssh -F "$BED_SSH_CONFIG" -p "$BED_SSH_PORT" root@127.0.0.1 true
out=$(ssh -F "$BED_SSH_CONFIG" -p "$BED_SSH_PORT" root@127.0.0.1 hostname)
bed_assert_eq "$(hostname)" "$out" "hostname over ssh"
arg="two  words and 'quotes'"
out=$(ssh -F "$BED_SSH_CONFIG" -p "$BED_SSH_PORT" root@127.0.0.1 "printf '%s|' $(printf '%q' "$arg")")
bed_assert_eq "$arg|" "$out" "argument with spaces over ssh"
out=$("$BED_SSH" -p "$BED_SSH_PORT" 127.0.0.1 id -u)
bed_assert_eq 0 "$out" "wrapper $BED_SSH logs in as root"
# The pinned host key is enforced: another key must be refused.
bad=$BED_DIR/bad_known_hosts
ssh-keygen -q -t ed25519 -N '' -f "$BED_DIR/other_host_key"
echo "* $(cut -d' ' -f1,2 "$BED_DIR/other_host_key.pub")" >"$bad"
if ssh -F "$BED_SSH_CONFIG" -o UserKnownHostsFile="$bad" -p "$BED_SSH_PORT" root@127.0.0.1 true 2>/dev/null; then
  bed_fail "ssh accepted a host key that is not pinned"
fi
bed_log "ok: sshd"
