#include "services/llm-proxy/simulator/simulator_settings.h"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <fstream>
#include <memory>
#include <sstream>

namespace rally::llm_simulator {
namespace {

using common::ConfigError;
using std::chrono::milliseconds;

constexpr std::string_view kAddrKey = "RALLY_SIMULATOR_ADDR";
constexpr std::string_view kRulesKey = "RALLY_SIMULATOR_RULES";
constexpr std::string_view kModelsKey = "RALLY_SIMULATOR_MODELS";
constexpr std::string_view kCertKey = "RALLY_SIMULATOR_TLS_CERT";
constexpr std::string_view kKeyKey = "RALLY_SIMULATOR_TLS_KEY";
constexpr std::string_view kModelsDevFileKey = "RALLY_SIMULATOR_MODELS_DEV_FILE";

std::string read_file(std::string_view key, const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw ConfigError(std::string(key), "cannot read " + path);
  std::ostringstream contents;
  contents << in.rdbuf();
  if (!in && !in.eof()) throw ConfigError(std::string(key), "cannot read " + path);
  return std::move(contents).str();
}

std::string openssl_error() {
  const unsigned long code = ERR_get_error();
  ERR_clear_error();
  if (code == 0) return "no PEM data found";
  char text[256];
  ERR_error_string_n(code, text, sizeof text);
  return text;
}

struct BioFree {
  void operator()(BIO* bio) const { BIO_free(bio); }
};
struct X509Free {
  void operator()(X509* cert) const { X509_free(cert); }
};
struct KeyFree {
  void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
};

// Encrypted keys are refused instead of prompting on the terminal (OpenSSL's default without a callback).
int refuse_passphrase(char* /*buffer*/, int /*size*/, int /*rwflag*/, void* /*userdata*/) {
  return 0;
}

std::unique_ptr<BIO, BioFree> memory_bio(const std::string& pem) {
  return std::unique_ptr<BIO, BioFree>(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
}

// Loads both PEMs the way the listener will, so a bad certificate fails at start with the key's name
// instead of at the first handshake.
void check_tls_pair(const std::string& cert_path, const std::string& cert_pem, const std::string& key_path,
                    const std::string& key_pem) {
  ERR_clear_error();
  const auto cert_bio = memory_bio(cert_pem);
  const std::unique_ptr<X509, X509Free> cert(
      PEM_read_bio_X509(cert_bio.get(), nullptr, refuse_passphrase, nullptr));
  if (!cert)
    throw ConfigError(std::string(kCertKey), cert_path + ": not a PEM certificate: " + openssl_error());
  const auto key_bio = memory_bio(key_pem);
  const std::unique_ptr<EVP_PKEY, KeyFree> key(
      PEM_read_bio_PrivateKey(key_bio.get(), nullptr, refuse_passphrase, nullptr));
  if (!key)
    throw ConfigError(std::string(kKeyKey),
                      key_path + ": not an unencrypted PEM private key: " + openssl_error());
  if (X509_check_private_key(cert.get(), key.get()) != 1) {
    ERR_clear_error();
    throw ConfigError(std::string(kKeyKey), key_path + " is not the private key of " + cert_path);
  }
}

std::vector<std::string> parse_models(const std::string& text) {
  std::vector<std::string> models;
  std::size_t start = 0;
  while (start <= text.size()) {
    const std::size_t comma = std::min(text.find(',', start), text.size());
    std::string_view item = std::string_view(text).substr(start, comma - start);
    while (!item.empty() && (item.front() == ' ' || item.front() == '\t')) item.remove_prefix(1);
    while (!item.empty() && (item.back() == ' ' || item.back() == '\t')) item.remove_suffix(1);
    if (item.empty()) {
      throw ConfigError(std::string(kModelsKey),
                        "expected comma-separated model names, got \"" + text + "\"");
    }
    models.emplace_back(item);
    start = comma + 1;
  }
  return models;
}

}  // namespace

SimulatorSettings SimulatorSettings::from(const common::ConfigSource& config) {
  SimulatorSettings settings;

  const std::string address = config.get_string(kAddrKey, settings.listen.to_string());
  const auto listen = common::HostPort::parse(address, /*allow_zero=*/true);
  if (!listen) {
    throw ConfigError(std::string(kAddrKey), "expected host:port with port 0-65535, got \"" + address + "\"");
  }
  settings.listen = *listen;
  settings.threads = static_cast<int>(config.get_int("RALLY_SIMULATOR_THREADS", settings.threads, 1, 64));
  settings.api_key = config.get_string("RALLY_SIMULATOR_API_KEY", "");
  settings.ttft =
      config.get_duration("RALLY_SIMULATOR_TTFT", settings.ttft, milliseconds(0), milliseconds(600000));
  settings.tokens_per_second =
      config.get_double("RALLY_SIMULATOR_TOKENS_PER_SECOND", settings.tokens_per_second, 0, 1e6);
  if (const auto models = config.raw(kModelsKey); models && !models->empty()) {
    settings.models = parse_models(*models);
  }

  if (const std::string path = config.get_string(kRulesKey, ""); !path.empty()) {
    auto rules = ReplyRules::parse(read_file(kRulesKey, path));
    if (!rules) throw ConfigError(std::string(kRulesKey), path + ": " + rules.error().message);
    settings.rules = std::move(rules.value());
  }

  // Read now only to fail at start on a typo; requests read it afresh.
  settings.models_dev_file = config.get_string(kModelsDevFileKey, "");
  if (!settings.models_dev_file.empty()) read_file(kModelsDevFileKey, settings.models_dev_file);

  const std::string cert_path = config.get_string(kCertKey, "");
  const std::string key_path = config.get_string(kKeyKey, "");
  if (cert_path.empty() != key_path.empty()) {
    throw ConfigError(std::string(cert_path.empty() ? kCertKey : kKeyKey),
                      "TLS needs both RALLY_SIMULATOR_TLS_CERT and RALLY_SIMULATOR_TLS_KEY");
  }
  if (!cert_path.empty()) {
    settings.tls_certificate_chain_pem = read_file(kCertKey, cert_path);
    settings.tls_private_key_pem = read_file(kKeyKey, key_path);
    check_tls_pair(cert_path, settings.tls_certificate_chain_pem, key_path, settings.tls_private_key_pem);
  }

  settings.port_file = config.get_string("RALLY_SIMULATOR_PORT_FILE", "");
  settings.body_limit =
      config.get_bytes("RALLY_SIMULATOR_BODY_LIMIT", settings.body_limit, 1024, std::uint64_t{1} << 30);
  settings.io_timeout = config.get_duration("RALLY_SIMULATOR_IO_TIMEOUT", settings.io_timeout,
                                            milliseconds(100), milliseconds(3600000));
  settings.request_log_entries = static_cast<std::size_t>(
      config.get_int("RALLY_SIMULATOR_REQUEST_LOG_SIZE",
                     static_cast<std::int64_t>(settings.request_log_entries), 1, 1000000));
  settings.shutdown_drain = config.get_duration("RALLY_SIMULATOR_SHUTDOWN_DRAIN", settings.shutdown_drain,
                                                milliseconds(0), milliseconds(300000));
  return settings;
}

}  // namespace rally::llm_simulator
