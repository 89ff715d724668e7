# SPDX-License-Identifier: GPL-3.0-or-later
# Mail of new services (issue 14, item 5): every service has a sender
# (mail.from, default noreply@HOSTNAME) in its config's own [email] section,
# after a blank line. A production service sends through mail.relay: a real
# mail sent by Tryton's own trytond-admin --test-email, as the service's
# user with the service's code, arrives at the bed's SMTP server from that
# sender. Without a relay, service create says so (one warning line) and the
# service's mail goes to smtp://localhost:25. A training service's mail goes
# to the catcher, never the relay. Bad addresses and URLs are refused (2).
source "${OE_SOURCE_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}/tests/bed/bed.sh"
bed_init
source "$OE_SOURCE_DIR/tests/xoe/lib.sh"
xoe_setup
bed_smtp
X software fetch tryton/7.0 >/dev/null

conf() { cat "$XROOT/var/lib/oe/xoe/services/$1/trytond.conf"; }

# No relay: a warning, the host's own mail server, the default sender.
p=m$XID
err=$(X service create "$p" --software tryton --version 7.0 --db-backend sqlite --role production --json 2>&1 >/dev/null)
bed_assert_contains "$err" "no mail relay is configured (mail.relay): the mail of $p goes to smtp://localhost:25" \
  "create's warning without a relay"
bed_assert_eq 1 "$(grep -c . <<<"$err")" "one line on stderr ($err)"
bed_assert_contains "$(conf "$p")" $'\n\n[email]\nuri = smtp://localhost:25\nfrom = noreply@'"$(hostname)" \
  "the mail section of a production without a relay"
X service remove "$p" >/dev/null
ok "no relay: create warns, the mail goes to smtp://localhost:25 from noreply@$(hostname)"

# A relay and a sender: a real mail through the relay, from the sender.
export OE_XOE_MAIL_RELAY=smtp://127.0.0.1:$BED_SMTP_PORT OE_XOE_MAIL_FROM=shop@example.org
err=$(X service create "$p" --software tryton --version 7.0 --db-backend sqlite --role production --json 2>&1 >/dev/null)
[[ $err != *"mail relay"* ]] || bed_fail "a warning with a relay: $err"
bed_assert_contains "$(conf "$p")" $'[email]\nuri = smtp://127.0.0.1:'"$BED_SMTP_PORT"$'\nfrom = shop@example.org' \
  "the mail section with a relay"
show=$(X service show "$p" --json)
user=$(xoe_json 'd["service"]["user"]' <<<"$show")
db=$(xoe_json 'd["service"]["database"]' <<<"$show")
pid=$(X service status "$p" --json | xoe_json 'd["service"]["pid"]')
# The server's own command line and PYTHONPATH: trytond-admin beside its trytond.
mapfile -d '' argv <"/proc/$pid/cmdline"
site=$(tr '\0' '\n' <"/proc/$pid/environ" | sed -n 's/^PYTHONPATH=//p')
trytond=
for a in "${argv[@]}"; do [[ $a == */usr/bin/trytond ]] && trytond=$a; done
[[ -n $trytond ]] || bed_fail "no trytond in the server's command line: ${argv[*]}"
bed_as "$user" env PYTHONPATH="$site" /usr/bin/python3 -S "${trytond}-admin" \
  -c "$XROOT/var/lib/oe/xoe/services/$p/trytond.conf" -d "$db" --test-email customer@example.org ||
  bed_fail "trytond-admin --test-email failed"
bed_wait 20 "the mail at the SMTP server" bash -c "ls '$BED_MAILDIR/new' | grep -q ."
mail=$(cat "$BED_MAILDIR"/new/*)
bed_assert_contains "$mail" "From: shop@example.org" "the mail's sender"
bed_assert_contains "$mail" "To: customer@example.org" "the mail's recipient"
ok "a relay and a sender: Tryton's test mail arrives through the relay from shop@example.org"

# A training service: the catcher, whatever the relay.
t=m$XID-training
X service create "$t" --software tryton --version 7.0 --db-backend sqlite --role training >/dev/null 2>&1
bed_assert_contains "$(conf "$t")" $'[email]\nuri = smtp://127.0.0.1:1\nfrom = shop@example.org' "the training's mail"
ok "a training service sends to the catcher, not the relay"

# Bad values: refused before anything is done.
xoe_expect 2 "a mail address" --set 'mail.from=shop@example.org
[web]' service list
xoe_expect 2 "a mail address" --set 'mail.from=no-at-sign' service list
xoe_expect 2 "an SMTP URL" --set 'mail.relay=http://relay' service list
xoe_expect 2 "an SMTP URL" --set 'mail.relay=smtp://relay 25' service list
ok "a bad sender or relay is refused (2)"

for s in "$p" "$t"; do X service remove "$s" >/dev/null; done
