// Unsigned 256-bit integers: the EVM word. Wei amounts, gas prices, nonces and uint256 ABI values exceed 64
// bits, and JSON-RPC writes them as "0x"-prefixed hex quantities. Arithmetic is deliberately small: what
// building transactions needs (sums, products, gas margins), not a bignum library.
#pragma once

#include <array>
#include <compare>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "services/common/errors.h"
#include "services/critique/eth/hex.h"

namespace rally::critique::eth {

class U256 {
 public:
  U256() = default;  // zero

  static U256 from_u64(std::uint64_t value);
  // The largest value, 2^256 - 1.
  static U256 max();

  // Decimal digits only (no sign, no spaces, no prefix), at least one; leading zeros are allowed. A value
  // of 2^256 or more is an error.
  static common::Result<U256> parse_decimal(std::string_view text);
  // A JSON-RPC quantity: "0x" (or "0X") then 1 to 64 hex digits, e.g. "0x0", "0x1a". A missing prefix, no
  // digits, a non-hex character or more than 256 bits are errors. Leading zeros ("0x01") are accepted,
  // although nodes never send them.
  static common::Result<U256> parse_quantity(std::string_view text);
  // At most 32 bytes, most significant first; more is a programming error (std::invalid_argument).
  static U256 from_big_endian(std::span<const std::uint8_t> bytes);

  std::array<std::uint8_t, 32> to_big_endian() const;
  // No leading zero bytes; empty for zero (the RLP encoding of an integer).
  Bytes to_minimal_big_endian() const;
  std::string to_decimal() const;
  // "0x0", "0x1a": the shortest hex, as JSON-RPC expects quantities.
  std::string to_quantity() const;
  std::optional<std::uint64_t> to_u64() const;
  bool is_zero() const;
  // Bit `index` (0 = least significant, < 256).
  bool bit(unsigned index) const;
  // Number of significant bits: 0 for zero, 256 for values with the top bit set.
  unsigned bit_length() const;

  friend bool operator==(const U256&, const U256&) = default;
  friend std::strong_ordering operator<=>(const U256& a, const U256& b);

  // Arithmetic wraps modulo 2^256, like the EVM: callers that must not overflow check with the checked_*
  // helpers below. Wrapping subtraction and negation also give two's complement for signed ABI integers.
  friend U256 operator+(const U256& a, const U256& b);
  friend U256 operator-(const U256& a, const U256& b);
  friend U256 operator*(const U256& a, const U256& b);
  U256 operator-() const;  // two's complement negation
  U256 operator~() const;
  U256 operator<<(unsigned shift) const;  // shift >= 256 gives zero
  U256 operator>>(unsigned shift) const;

  // nullopt when the exact result needs more than 256 bits.
  static std::optional<U256> checked_add(const U256& a, const U256& b);
  static std::optional<U256> checked_mul(const U256& a, const U256& b);

  // floor(*this * num / den) computed exactly with a 320-bit intermediate (gas * 12 / 10 never overflows in
  // between). A quotient above 2^256 - 1 saturates at max(). den == 0 is a programming error
  // (std::invalid_argument).
  U256 mul_div(std::uint64_t num, std::uint64_t den) const;

 private:
  std::array<std::uint64_t, 4> limbs_{};  // least significant first
};

}  // namespace rally::critique::eth
