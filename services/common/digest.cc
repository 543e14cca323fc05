#include "services/common/digest.h"

#include <openssl/evp.h>

#include <stdexcept>

namespace rally::common {
namespace {

// Returns the digest's length; EVP_Digest fails only when OpenSSL itself is broken.
unsigned int digest(std::string_view data, const EVP_MD* algorithm, unsigned char* out) {
  unsigned int length = 0;
  if (EVP_Digest(data.data(), data.size(), out, &length, algorithm, nullptr) != 1) {
    throw std::runtime_error("message digest failed in OpenSSL");
  }
  return length;
}

}  // namespace

std::array<unsigned char, 32> sha256(std::string_view data) {
  std::array<unsigned char, 32> result{};
  if (digest(data, EVP_sha256(), result.data()) != result.size()) {
    throw std::runtime_error("SHA-256 of unexpected length from OpenSSL");
  }
  return result;
}

std::string sha256_hex(std::string_view data) {
  const auto bytes = sha256(data);
  return hex_digits(bytes.data(), bytes.size());
}

std::string hex_digits(const unsigned char* bytes, std::size_t size) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string text;
  text.reserve(size * 2);
  for (std::size_t i = 0; i < size; ++i) {
    text += kDigits[bytes[i] >> 4];
    text += kDigits[bytes[i] & 0xf];
  }
  return text;
}

std::string sha1_hex(std::string_view data) {
  unsigned char bytes[EVP_MAX_MD_SIZE];
  return hex_digits(bytes, digest(data, EVP_sha1(), bytes));
}

}  // namespace rally::common
