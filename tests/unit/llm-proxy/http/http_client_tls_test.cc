// HTTPS: certificate verification against the extra CA option and against OpenSSL's default paths
// (SSL_CERT_FILE, SSL_CERT_DIR), host name and IP checks, SNI, and keep-alive and cancellation over TLS.
// The CA and server certificates are made here with OpenSSL's C API, fresh for every run.
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>

#include "services/llm-proxy/http/http_client.h"
#include "tests/unit/llm-proxy/http/call_recorder.h"
#include "tests/unit/llm-proxy/http/test_server.h"

namespace rally::llm_proxy {
namespace {

using namespace testing;

using KeyPtr = std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)>;
using CertPtr = std::unique_ptr<X509, decltype(&X509_free)>;

struct KeyAndCertificate {
  KeyPtr key{nullptr, EVP_PKEY_free};
  CertPtr certificate{nullptr, X509_free};
};

void add_extension(X509* certificate, X509* issuer, int nid, const std::string& value) {
  X509V3_CTX context;
  X509V3_set_ctx_nodb(&context);
  X509V3_set_ctx(&context, issuer, certificate, nullptr, nullptr, 0);
  X509_EXTENSION* extension = X509V3_EXT_conf_nid(nullptr, &context, nid, value.c_str());
  if (extension == nullptr) {
    throw std::runtime_error("cannot make certificate extension " + value);
  }
  X509_add_ext(certificate, extension, -1);
  X509_EXTENSION_free(extension);
}

// A CA when `issuer` is null (self-signed), otherwise a TLS server certificate for `subject_alt_name`
// ("IP:127.0.0.1", "DNS:localhost") signed by the issuer.
KeyAndCertificate issue(const std::string& common_name, const KeyAndCertificate* issuer,
                        const std::string& subject_alt_name = {}) {
  static long serial = 1;
  KeyAndCertificate out;
  out.key.reset(EVP_EC_gen("P-256"));
  out.certificate.reset(X509_new());
  X509* certificate = out.certificate.get();
  if (!out.key || certificate == nullptr) {
    throw std::runtime_error("cannot make a key or certificate");
  }
  X509_set_version(certificate, 2);  // v3
  ASN1_INTEGER_set(X509_get_serialNumber(certificate), serial++);
  X509_gmtime_adj(X509_getm_notBefore(certificate), -60 * 60);
  X509_gmtime_adj(X509_getm_notAfter(certificate), 24 * 60 * 60);
  X509_set_pubkey(certificate, out.key.get());
  X509_NAME* subject = X509_get_subject_name(certificate);
  X509_NAME_add_entry_by_txt(subject, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>(common_name.c_str()), -1, -1, 0);
  X509* issuer_certificate = issuer != nullptr ? issuer->certificate.get() : certificate;
  X509_set_issuer_name(certificate, X509_get_subject_name(issuer_certificate));
  if (issuer == nullptr) {
    add_extension(certificate, issuer_certificate, NID_basic_constraints, "critical,CA:TRUE");
    add_extension(certificate, issuer_certificate, NID_key_usage, "critical,keyCertSign,cRLSign");
  } else {
    add_extension(certificate, issuer_certificate, NID_basic_constraints, "critical,CA:FALSE");
    add_extension(certificate, issuer_certificate, NID_key_usage, "critical,digitalSignature");
    add_extension(certificate, issuer_certificate, NID_ext_key_usage, "serverAuth");
    add_extension(certificate, issuer_certificate, NID_subject_alt_name, subject_alt_name);
  }
  add_extension(certificate, issuer_certificate, NID_subject_key_identifier, "hash");
  add_extension(certificate, issuer_certificate, NID_authority_key_identifier, "keyid:always");
  EVP_PKEY* signing_key = issuer != nullptr ? issuer->key.get() : out.key.get();
  if (X509_sign(certificate, signing_key, EVP_sha256()) == 0) {
    throw std::runtime_error("cannot sign certificate " + common_name);
  }
  return out;
}

void write_pem(X509* certificate, const std::filesystem::path& path) {
  FILE* file = std::fopen(path.c_str(), "w");
  if (file == nullptr || PEM_write_X509(file, certificate) != 1) {
    throw std::runtime_error("cannot write " + path.string());
  }
  std::fclose(file);
}

// One throwaway PKI per test run: a CA, server certificates signed by it, and the CA on disk twice, as a
// PEM file and as an OpenSSL hashed certificate directory.
struct Pki {
  Pki()
      : ca(issue("LlamaRally test CA", nullptr)),
        for_loopback_ip(issue("127.0.0.1", &ca, "IP:127.0.0.1")),
        for_localhost(issue("localhost", &ca, "DNS:localhost")),
        for_other_host(issue("other.example", &ca, "DNS:other.example,IP:127.0.0.2")),
        directory(std::filesystem::temp_directory_path() /
                  ("rally-http-tls-test-" + std::to_string(::getpid()))) {
    std::filesystem::create_directories(directory / "hashed");
    ca_file = directory / "ca.pem";
    write_pem(ca.certificate.get(), ca_file);
    char hashed_name[32];
    std::snprintf(hashed_name, sizeof hashed_name, "%08lx.0", X509_subject_name_hash(ca.certificate.get()));
    write_pem(ca.certificate.get(), directory / "hashed" / hashed_name);
  }
  ~Pki() {
    std::error_code ignored;
    std::filesystem::remove_all(directory, ignored);
  }

  KeyAndCertificate ca;
  KeyAndCertificate for_loopback_ip;
  KeyAndCertificate for_localhost;
  KeyAndCertificate for_other_host;
  std::filesystem::path directory;
  std::filesystem::path ca_file;
};

const Pki& pki() {
  static const Pki instance;
  return instance;
}

std::shared_ptr<SSL_CTX> server_tls(const KeyAndCertificate& identity) {
  std::shared_ptr<SSL_CTX> context(SSL_CTX_new(TLS_server_method()), SSL_CTX_free);
  if (!context || SSL_CTX_use_certificate(context.get(), identity.certificate.get()) != 1 ||
      SSL_CTX_use_PrivateKey(context.get(), identity.key.get()) != 1 ||
      SSL_CTX_check_private_key(context.get()) != 1) {
    throw std::runtime_error("cannot set up the test server's TLS context");
  }
  return context;
}

// Sets (or, with nullopt, removes) an environment variable until destroyed.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, std::optional<std::string> value) : name_(name) {
    if (const char* old = std::getenv(name)) {
      previous_ = old;
    }
    apply(value);
  }
  ~ScopedEnv() { apply(previous_); }
  ScopedEnv(const ScopedEnv&) = delete;
  ScopedEnv& operator=(const ScopedEnv&) = delete;

 private:
  void apply(const std::optional<std::string>& value) {
    if (value) {
      ::setenv(name_, value->c_str(), 1);
    } else {
      ::unsetenv(name_);
    }
  }

  const char* name_;
  std::optional<std::string> previous_;
};

// Trust only what the system trusts: no test CA reaches a client through the environment.
struct SystemTrustOnly {
  ScopedEnv file{"SSL_CERT_FILE", std::nullopt};
  ScopedEnv dir{"SSL_CERT_DIR", std::nullopt};
};

// Serves "secure:<target>" to every request until the client closes; records the SNI it received.
class HttpsServer {
 public:
  explicit HttpsServer(const KeyAndCertificate& identity)
      : server_(
            [this](ServerConnection& connection) {
              {
                const std::lock_guard lock(mutex_);
                server_name_ = connection.server_name();
              }
              while (auto request = connection.read_request(5s)) {
                if (request->target == "/stall") {
                  connection.write(response_head(100) + "partial");
                  closed_by_client_ = connection.wait_for_close(5s);
                  return;
                }
                connection.write(ok_response("secure:" + request->target));
              }
            },
            server_tls(identity)) {}

  std::string url(const std::string& host, std::string_view target = "/") const {
    return "https://" + host + ":" + std::to_string(server_.port()) + std::string(target);
  }
  int accepted() const { return server_.accepted(); }
  std::string server_name() const {
    const std::lock_guard lock(mutex_);
    return server_name_;
  }
  bool closed_by_client() const { return closed_by_client_.load(); }

 private:
  mutable std::mutex mutex_;
  std::string server_name_;
  std::atomic<bool> closed_by_client_{false};
  TestServer server_;  // last: its threads use the members above
};

HttpClientOptions with_test_ca() {
  HttpClientOptions options;
  options.threads = 1;
  options.extra_ca_file = pki().ca_file.string();
  return options;
}

TEST_CASE("HTTPS verifies the server against the extra CA, and keeps the TLS connection alive") {
  const SystemTrustOnly environment;
  HttpsServer server(pki().for_loopback_ip);
  HttpClient client(with_test_ca());
  for (int i = 0; i < 2; ++i) {
    const HttpFetchResult result = client.fetch(get(server.url("127.0.0.1", "/v1/models"))).get();
    INFO((result.error ? result.error->message : ""));
    REQUIRE(result.ok());
    CHECK(result.body == "secure:/v1/models");
  }
  CHECK(server.accepted() == 1);
  CHECK(client.pool_stats().connections_reused == 1);
  CHECK(server.server_name().empty());  // no SNI for IP addresses (RFC 6066)
}

TEST_CASE("HTTPS trusts what SSL_CERT_FILE names, read when the client is created") {
  // The variable OpenSSL's default verify paths consult.
  CHECK(std::string(X509_get_default_cert_file_env()) == "SSL_CERT_FILE");
  const SystemTrustOnly environment;
  HttpsServer server(pki().for_loopback_ip);
  std::optional<HttpClient> client;
  {
    const ScopedEnv cert_file("SSL_CERT_FILE", pki().ca_file.string());
    HttpClientOptions options;
    options.threads = 1;
    client.emplace(options);
  }
  const HttpFetchResult result = client->fetch(get(server.url("127.0.0.1"))).get();
  INFO((result.error ? result.error->message : ""));
  REQUIRE(result.ok());
  CHECK(result.body == "secure:/");
}

TEST_CASE("HTTPS trusts a hashed certificate directory named by SSL_CERT_DIR") {
  CHECK(std::string(X509_get_default_cert_dir_env()) == "SSL_CERT_DIR");
  const SystemTrustOnly environment;
  const ScopedEnv cert_dir("SSL_CERT_DIR", (pki().directory / "hashed").string());
  HttpsServer server(pki().for_loopback_ip);
  HttpClientOptions options;
  options.threads = 1;
  HttpClient client(options);
  const HttpFetchResult result = client.fetch(get(server.url("127.0.0.1"))).get();
  INFO((result.error ? result.error->message : ""));
  REQUIRE(result.ok());
}

TEST_CASE("HTTPS fails with kTls when the certificate is not trusted") {
  const SystemTrustOnly environment;
  HttpsServer server(pki().for_loopback_ip);
  HttpClientOptions options;
  options.threads = 1;
  HttpClient client(options);
  auto recorder = make_recorder();
  client.start(get(server.url("127.0.0.1")), recorder->handler());
  REQUIRE(recorder->wait());
  const auto error = recorder->error();
  REQUIRE(error.has_value());
  CHECK(error->kind == HttpErrorKind::kTls);
  CHECK_THAT(error->message, Catch::Contains("certificate"));
  CHECK_FALSE(error->head_delivered);
  CHECK(client.pool_stats().idle_total() == 0);
}

TEST_CASE("HTTPS fails with kTls when the certificate names another host") {
  const SystemTrustOnly environment;
  HttpsServer server(pki().for_other_host);
  HttpClient client(with_test_ca());

  SECTION("an IP address the certificate does not list") {
    const HttpFetchResult result = client.fetch(get(server.url("127.0.0.1"))).get();
    REQUIRE_FALSE(result.ok());
    CHECK(result.error->kind == HttpErrorKind::kTls);
    CHECK_THAT(result.error->message, Catch::Contains("mismatch"));
  }
  SECTION("a host name the certificate does not list") {
    const HttpFetchResult result = client.fetch(get(server.url("localhost"))).get();
    REQUIRE_FALSE(result.ok());
    CHECK(result.error->kind == HttpErrorKind::kTls);
    CHECK_THAT(result.error->message, Catch::Contains("mismatch"));
  }
}

TEST_CASE("HTTPS to a host name sends SNI and checks the name") {
  const SystemTrustOnly environment;
  HttpsServer server(pki().for_localhost);
  HttpClient client(with_test_ca());
  const HttpFetchResult result = client.fetch(get(server.url("localhost", "/named"))).get();
  INFO((result.error ? result.error->message : ""));
  REQUIRE(result.ok());
  CHECK(result.body == "secure:/named");
  CHECK(server.server_name() == "localhost");
}

TEST_CASE("cancelling an HTTPS stream closes the TCP connection") {
  const SystemTrustOnly environment;
  HttpsServer server(pki().for_loopback_ip);
  HttpClient client(with_test_ca());
  auto recorder = make_recorder();
  const HttpCall call = client.start(get(server.url("127.0.0.1", "/stall")), recorder->handler());
  REQUIRE(eventually([&] { return recorder->body_calls() == 1; }));
  call.cancel();
  CHECK(eventually([&] { return server.closed_by_client(); }, 2s));
  REQUIRE(recorder->wait());
  CHECK(recorder->error_kind() == HttpErrorKind::kCancelled);
  CHECK(recorder->error()->body_delivered);
}

}  // namespace
}  // namespace rally::llm_proxy
