# SPDX-License-Identifier: GPL-3.0-or-later
# The bed's SMTP server accepts a mail sent by curl and stores it in its Maildir.
source "${OE_SOURCE_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}/tests/bed/bed.sh"
bed_init
bed_smtp

mail=$BED_DIR/mail.txt
token="oe-bed-$$-$RANDOM"
cat >"$mail" <<MAIL
From: sender@example.test
To: rcpt@example.test
Subject: bed test $token

Body of $token.
MAIL
curl -sS --max-time 20 "smtp://127.0.0.1:$BED_SMTP_PORT" --mail-from sender@example.test \
  --mail-rcpt rcpt@example.test -T "$mail"
bed_wait 10 "the mail in $BED_MAILDIR/new" compgen -G "$BED_MAILDIR/new/*"
got=$(cat "$BED_MAILDIR"/new/*)
bed_assert_contains "$got" "Subject: bed test $token" "stored mail"
bed_assert_contains "$got" "Body of $token." "stored mail body"
bed_log "ok: smtp"
