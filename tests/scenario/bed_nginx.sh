# SPDX-License-Identifier: GPL-3.0-or-later
# The bed's nginx serves a static file, and a server block added to its include
# folder answers after bed_nginx_reload.
source "${OE_SOURCE_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}/tests/bed/bed.sh"
bed_init
bed_nginx

echo "hello from the bed" >"$BED_NGINX_ROOT/hello.txt"
out=$(curl -fsS --max-time 10 "http://127.0.0.1:$BED_NGINX_PORT/hello.txt")
bed_assert_eq "hello from the bed" "$out" "static file"
code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 "http://127.0.0.1:$BED_NGINX_PORT/missing")
bed_assert_eq 404 "$code" "missing file"

port2=$(bed_free_port)
cat >"$BED_NGINX_CONF_DIR/extra.conf" <<CONF
server {
  listen 127.0.0.1:$port2;
  location / { return 200 "extra server\n"; }
}
CONF
bed_nginx_reload
bed_wait_port 127.0.0.1 "$port2" 10
out=$(curl -fsS --max-time 10 "http://127.0.0.1:$port2/")
bed_assert_eq "extra server" "$out" "server block added by reload"
out=$(curl -fsS --max-time 10 "http://127.0.0.1:$BED_NGINX_PORT/hello.txt")
bed_assert_eq "hello from the bed" "$out" "static file after reload"
bed_log "ok: nginx"
