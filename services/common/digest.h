// Message digests as lower-case hex, over OpenSSL: identifiers derived from content (Redis script SHA-1s,
// migration checksums) and hashes stored instead of secrets (a voter's key).
#pragma once

#include <array>
#include <cstddef>
#include <string>
#include <string_view>

namespace rally::common {

std::array<unsigned char, 32> sha256(std::string_view data);
std::string sha256_hex(std::string_view data);
std::string sha1_hex(std::string_view data);
// Lower-case hex of `size` bytes (two digits a byte), e.g. of random bytes made into an identifier.
std::string hex_digits(const unsigned char* bytes, std::size_t size);

}  // namespace rally::common
