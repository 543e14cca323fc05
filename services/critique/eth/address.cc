#include "services/critique/eth/address.h"

#include <algorithm>

#include "services/critique/eth/hex.h"
#include "services/critique/eth/keccak.h"

namespace rally::critique::eth {
namespace {

common::Error invalid(std::string message) {
  return common::Error(common::ErrorCode::kInvalidRequest, std::move(message));
}

bool is_lower_hex_letter(char c) {
  return c >= 'a' && c <= 'f';
}
bool is_upper_hex_letter(char c) {
  return c >= 'A' && c <= 'F';
}

}  // namespace

common::Result<Address> Address::parse(std::string_view text) {
  if (text.size() != 42 || text[0] != '0' || (text[1] != 'x' && text[1] != 'X')) {
    return invalid("address must be 0x followed by 40 hex digits");
  }
  const std::string_view digits = text.substr(2);
  auto raw = from_hex(digits);
  if (!raw) return invalid("address must be 0x followed by 40 hex digits");
  Address out;
  std::copy(raw->begin(), raw->end(), out.bytes.begin());

  const bool has_lower = std::any_of(digits.begin(), digits.end(), is_lower_hex_letter);
  const bool has_upper = std::any_of(digits.begin(), digits.end(), is_upper_hex_letter);
  if (has_lower && has_upper && out.checksummed().substr(2) != digits) {
    return invalid("address has mixed case that is not its EIP-55 checksum: " + std::string(text));
  }
  return out;
}

common::Result<Address> Address::from_bytes(std::span<const std::uint8_t> raw) {
  if (raw.size() != 20) {
    return invalid("address must be 20 bytes, got " + std::to_string(raw.size()));
  }
  Address out;
  std::copy(raw.begin(), raw.end(), out.bytes.begin());
  return out;
}

std::string Address::checksummed() const {
  std::string out = lower_hex();
  // EIP-55: upper-case the i-th hex letter when the i-th nibble of keccak256(lower-case hex, no prefix) >= 8.
  const Hash32 hash = keccak256(std::string_view(out).substr(2));
  for (std::size_t i = 0; i < 40; ++i) {
    const int nibble = i % 2 == 0 ? hash[i / 2] >> 4 : hash[i / 2] & 0x0f;
    char& c = out[i + 2];
    if (nibble >= 8 && is_lower_hex_letter(c)) c = static_cast<char>(c - 'a' + 'A');
  }
  return out;
}

std::string Address::lower_hex() const {
  return to_hex(bytes);
}

bool Address::is_zero() const {
  return std::all_of(bytes.begin(), bytes.end(), [](std::uint8_t b) { return b == 0; });
}

}  // namespace rally::critique::eth
