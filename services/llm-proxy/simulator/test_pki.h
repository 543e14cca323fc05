// A throwaway certificate authority and a server certificate signed by it, written as PEM files, so tests
// can run the simulator with TLS and point a client's trust store (SSL_CERT_FILE, or a verify file) at
// the CA. Generated with the OpenSSL C API: no openssl command-line tool needed. Not for production use.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace rally::llm_simulator {

struct TestPki {
  std::filesystem::path ca_certificate;      // ca.pem: what clients trust
  std::filesystem::path server_certificate;  // server.pem: the server certificate (RALLY_SIMULATOR_TLS_CERT)
  std::filesystem::path
      server_private_key;  // server-key.pem, unencrypted, mode 0600 (RALLY_SIMULATOR_TLS_KEY)
};

// Writes ca.pem, server.pem and server-key.pem into `directory` (created if missing). The server
// certificate is valid from an hour ago for seven days, for the DNS names `dns_names` (default
// "localhost") and the addresses 127.0.0.1 and ::1; its subject CN is the first DNS name. P-256 keys.
// Throws std::runtime_error with OpenSSL's reason on failure.
TestPki generate_test_pki(const std::filesystem::path& directory,
                          const std::vector<std::string>& dns_names = {"localhost"});

}  // namespace rally::llm_simulator
