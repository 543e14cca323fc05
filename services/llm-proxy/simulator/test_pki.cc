#include "services/llm-proxy/simulator/test_pki.h"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <cstdint>
#include <memory>
#include <stdexcept>

namespace rally::llm_simulator {
namespace {

constexpr long kValidFromSecondsAgo = 3600;
constexpr long kValidForSeconds = 7L * 24 * 3600;

struct KeyFree {
  void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
};
struct X509Free {
  void operator()(X509* cert) const { X509_free(cert); }
};
struct BioFree {
  void operator()(BIO* bio) const { BIO_free_all(bio); }
};
struct ExtensionFree {
  void operator()(X509_EXTENSION* extension) const { X509_EXTENSION_free(extension); }
};
using Key = std::unique_ptr<EVP_PKEY, KeyFree>;
using Certificate = std::unique_ptr<X509, X509Free>;

[[noreturn]] void fail(const std::string& what) {
  const unsigned long code = ERR_get_error();
  ERR_clear_error();
  std::string message = "generate_test_pki: " + what;
  if (code != 0) {
    char reason[256];
    ERR_error_string_n(code, reason, sizeof reason);
    message += ": ";
    message += reason;
  }
  throw std::runtime_error(message);
}

void check(int result, const std::string& what) {
  if (result != 1) fail(what);
}

Key generate_key() {
  Key key(EVP_EC_gen("P-256"));
  if (!key) fail("generating a P-256 key");
  return key;
}

void add_extension(X509* certificate, X509* issuer, int nid, const std::string& value) {
  X509V3_CTX context;
  X509V3_set_ctx(&context, issuer, certificate, nullptr, nullptr, 0);
  const std::unique_ptr<X509_EXTENSION, ExtensionFree> extension(
      X509V3_EXT_conf_nid(nullptr, &context, nid, value.c_str()));
  if (!extension) fail("building extension " + std::string(OBJ_nid2sn(nid)) + "=" + value);
  check(X509_add_ext(certificate, extension.get(), -1), "adding an extension");
}

// A certificate for `key` named CN=`common_name`, before extensions and signature. Self-issued when
// `issuer` is null.
Certificate new_certificate(EVP_PKEY* key, const std::string& common_name, X509* issuer) {
  Certificate certificate(X509_new());
  if (!certificate) fail("X509_new");
  check(X509_set_version(certificate.get(), 2), "setting the version");  // v3
  std::uint64_t serial = 0;
  check(RAND_bytes(reinterpret_cast<unsigned char*>(&serial), sizeof serial), "drawing a serial number");
  check(ASN1_INTEGER_set_uint64(X509_get_serialNumber(certificate.get()), serial >> 1), "setting the serial");
  if (X509_gmtime_adj(X509_getm_notBefore(certificate.get()), -kValidFromSecondsAgo) == nullptr ||
      X509_gmtime_adj(X509_getm_notAfter(certificate.get()), kValidForSeconds) == nullptr) {
    fail("setting the validity period");
  }
  X509_NAME* subject = X509_get_subject_name(certificate.get());
  check(X509_NAME_add_entry_by_txt(subject, "O", MBSTRING_ASC,
                                   reinterpret_cast<const unsigned char*>("LlamaRally tests"), -1, -1, 0),
        "setting the organisation");
  check(X509_NAME_add_entry_by_txt(subject, "CN", MBSTRING_ASC,
                                   reinterpret_cast<const unsigned char*>(common_name.c_str()), -1, -1, 0),
        "setting the common name");
  check(X509_set_issuer_name(certificate.get(), issuer != nullptr ? X509_get_subject_name(issuer) : subject),
        "setting the issuer");
  check(X509_set_pubkey(certificate.get(), key), "setting the public key");
  return certificate;
}

void write_pem(const std::filesystem::path& path, X509* certificate, EVP_PKEY* key) {
  const std::unique_ptr<BIO, BioFree> file(BIO_new_file(path.c_str(), "w"));
  if (!file) fail("opening " + path.string());
  if (certificate != nullptr) {
    check(PEM_write_bio_X509(file.get(), certificate), "writing " + path.string());
  } else {
    check(PEM_write_bio_PrivateKey(file.get(), key, nullptr, nullptr, 0, nullptr, nullptr),
          "writing " + path.string());
  }
}

}  // namespace

TestPki generate_test_pki(const std::filesystem::path& directory, const std::vector<std::string>& dns_names) {
  if (dns_names.empty()) throw std::invalid_argument("generate_test_pki: at least one DNS name is needed");
  std::filesystem::create_directories(directory);

  const Key ca_key = generate_key();
  const Certificate ca = new_certificate(ca_key.get(), "LlamaRally test CA", nullptr);
  add_extension(ca.get(), ca.get(), NID_basic_constraints, "critical,CA:TRUE,pathlen:0");
  add_extension(ca.get(), ca.get(), NID_key_usage, "critical,keyCertSign,cRLSign");
  add_extension(ca.get(), ca.get(), NID_subject_key_identifier, "hash");
  if (X509_sign(ca.get(), ca_key.get(), EVP_sha256()) == 0) fail("signing the CA certificate");

  const Key server_key = generate_key();
  const Certificate server = new_certificate(server_key.get(), dns_names.front(), ca.get());
  std::string alt_names;
  for (const std::string& name : dns_names) alt_names += "DNS:" + name + ",";
  alt_names += "IP:127.0.0.1,IP:::1";
  add_extension(server.get(), ca.get(), NID_basic_constraints, "critical,CA:FALSE");
  add_extension(server.get(), ca.get(), NID_key_usage, "critical,digitalSignature");
  add_extension(server.get(), ca.get(), NID_ext_key_usage, "serverAuth");
  add_extension(server.get(), ca.get(), NID_subject_alt_name, alt_names);
  add_extension(server.get(), ca.get(), NID_subject_key_identifier, "hash");
  add_extension(server.get(), ca.get(), NID_authority_key_identifier, "keyid:always");
  if (X509_sign(server.get(), ca_key.get(), EVP_sha256()) == 0) fail("signing the server certificate");

  TestPki pki{directory / "ca.pem", directory / "server.pem", directory / "server-key.pem"};
  write_pem(pki.ca_certificate, ca.get(), nullptr);
  write_pem(pki.server_certificate, server.get(), nullptr);
  write_pem(pki.server_private_key, nullptr, server_key.get());
  std::filesystem::permissions(pki.server_private_key,
                               std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  return pki;
}

}  // namespace rally::llm_simulator
