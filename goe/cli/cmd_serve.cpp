// SPDX-License-Identifier: GPL-3.0-or-later
// goe serve [--listen ADDR:PORT] [--tls-cert FILE --tls-key FILE]
#include "commands.hpp"
#include "goe/panel.hpp"

namespace goe::cli {

void add_serve(core::cli::Frame& frame) {
  auto listen = std::make_shared<std::string>();
  auto cert = std::make_shared<std::string>();
  auto key = std::make_shared<std::string>();
  auto minutes = std::make_shared<std::int64_t>(0);
  CLI::App* cmd = frame.command(
      frame.app(), "serve", "Serve the web panel (loopback by default)", core::cli::Effect::reads,
      [&frame, listen, cert, key, minutes] {
        goe::ServeOptions options;
        options.address = frame.config().get_string("http.listen");
        options.port = static_cast<int>(frame.config().get_int("http.port"));
        options.session_minutes = frame.config().get_int("http.session_minutes");
        if (!listen->empty()) goe::parse_listen(*listen, options);
        if (!cert->empty()) options.tls_cert = *cert;
        if (!key->empty()) options.tls_key = *key;
        if (*minutes > 0) options.session_minutes = *minutes;
        goe::serve(frame.paths(), options);
        return core::exit_code::ok;
      });
  cmd->add_option("--listen", *listen, "ADDR:PORT, ADDR or :PORT (default: http.listen and http.port, 127.0.0.1:8070)");
  cmd->add_option("--tls-cert", *cert, "PEM certificate: serve HTTPS (with --tls-key)");
  cmd->add_option("--tls-key", *key, "PEM private key of --tls-cert");
  cmd->add_option("--session-minutes", *minutes, "A session expires after this long unused (http.session_minutes)")
      ->check(CLI::Range(1, 7 * 24 * 60));
}

}  // namespace goe::cli
