#include "services/critique/eth/u256.h"

#include <algorithm>
#include <stdexcept>

namespace rally::critique::eth {
namespace {

__extension__ using U128 = unsigned __int128;

common::Error invalid(std::string message) {
  return common::Error(common::ErrorCode::kInvalidRequest, std::move(message));
}

// Divides `limbs` (least significant first) by `den` in place and returns the remainder.
template <std::size_t N>
std::uint64_t div_small(std::array<std::uint64_t, N>& limbs, std::uint64_t den) {
  U128 rem = 0;
  for (std::size_t i = N; i-- > 0;) {
    const U128 cur = rem << 64 | limbs[i];
    limbs[i] = static_cast<std::uint64_t>(cur / den);
    rem = cur % den;
  }
  return static_cast<std::uint64_t>(rem);
}

}  // namespace

U256 U256::from_u64(std::uint64_t value) {
  U256 out;
  out.limbs_[0] = value;
  return out;
}

U256 U256::max() {
  U256 out;
  out.limbs_.fill(~std::uint64_t{0});
  return out;
}

common::Result<U256> U256::parse_decimal(std::string_view text) {
  if (text.empty()) return invalid("decimal number is empty");
  U256 out;
  const U256 ten = from_u64(10);
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c < '0' || c > '9') {
      return invalid("decimal number has a non-digit at position " + std::to_string(i));
    }
    const auto scaled = checked_mul(out, ten);
    const auto next =
        scaled ? checked_add(*scaled, from_u64(static_cast<std::uint64_t>(c - '0'))) : std::nullopt;
    if (!next) return invalid("decimal number does not fit in 256 bits");
    out = *next;
  }
  return out;
}

common::Result<U256> U256::parse_quantity(std::string_view text) {
  if (text.size() < 2 || text[0] != '0' || (text[1] != 'x' && text[1] != 'X')) {
    return invalid("quantity must start with 0x");
  }
  text.remove_prefix(2);
  if (text.empty()) return invalid("quantity has no digits after 0x");
  while (text.size() > 1 && text.front() == '0') text.remove_prefix(1);
  if (text.size() > 64) return invalid("quantity does not fit in 256 bits");
  U256 out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const int digit = hex_digit_value(text[i]);
    if (digit < 0) return invalid("quantity has a non-hex character");
    out = out << 4;
    out.limbs_[0] |= static_cast<std::uint64_t>(digit);
  }
  return out;
}

U256 U256::from_big_endian(std::span<const std::uint8_t> bytes) {
  if (bytes.size() > 32) throw std::invalid_argument("U256::from_big_endian: more than 32 bytes");
  U256 out;
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    const std::size_t significance = bytes.size() - 1 - i;  // byte index from the least significant end
    out.limbs_[significance / 8] |= std::uint64_t{bytes[i]} << (8 * (significance % 8));
  }
  return out;
}

std::array<std::uint8_t, 32> U256::to_big_endian() const {
  std::array<std::uint8_t, 32> out{};
  for (std::size_t i = 0; i < 32; ++i) {
    const std::size_t significance = 31 - i;
    out[i] = static_cast<std::uint8_t>(limbs_[significance / 8] >> (8 * (significance % 8)));
  }
  return out;
}

Bytes U256::to_minimal_big_endian() const {
  const auto full = to_big_endian();
  const auto first = std::find_if(full.begin(), full.end(), [](std::uint8_t b) { return b != 0; });
  return Bytes(first, full.end());
}

std::string U256::to_decimal() const {
  if (is_zero()) return "0";
  std::array<std::uint64_t, 4> rest = limbs_;
  std::string digits;
  while (std::any_of(rest.begin(), rest.end(), [](std::uint64_t l) { return l != 0; })) {
    digits.push_back(static_cast<char>('0' + div_small(rest, 10)));
  }
  std::reverse(digits.begin(), digits.end());
  return digits;
}

std::string U256::to_quantity() const {
  static constexpr char kDigits[] = "0123456789abcdef";
  if (is_zero()) return "0x0";
  std::string out = "0x";
  const unsigned nibbles = (bit_length() + 3) / 4;
  for (unsigned i = nibbles; i-- > 0;) {
    out.push_back(kDigits[(limbs_[i / 16] >> (4 * (i % 16))) & 0xf]);
  }
  return out;
}

std::optional<std::uint64_t> U256::to_u64() const {
  if (limbs_[1] != 0 || limbs_[2] != 0 || limbs_[3] != 0) return std::nullopt;
  return limbs_[0];
}

bool U256::is_zero() const {
  return limbs_ == std::array<std::uint64_t, 4>{};
}

bool U256::bit(unsigned index) const {
  return index < 256 && ((limbs_[index / 64] >> (index % 64)) & 1) != 0;
}

unsigned U256::bit_length() const {
  for (unsigned i = 4; i-- > 0;) {
    if (limbs_[i] != 0) return i * 64 + 64 - static_cast<unsigned>(__builtin_clzll(limbs_[i]));
  }
  return 0;
}

std::strong_ordering operator<=>(const U256& a, const U256& b) {
  for (std::size_t i = 4; i-- > 0;) {
    if (a.limbs_[i] != b.limbs_[i]) return a.limbs_[i] <=> b.limbs_[i];
  }
  return std::strong_ordering::equal;
}

U256 operator+(const U256& a, const U256& b) {
  U256 out;
  U128 carry = 0;
  for (std::size_t i = 0; i < 4; ++i) {
    const U128 sum = U128{a.limbs_[i]} + b.limbs_[i] + carry;
    out.limbs_[i] = static_cast<std::uint64_t>(sum);
    carry = sum >> 64;
  }
  return out;
}

U256 operator-(const U256& a, const U256& b) {
  return a + -b;
}

U256 operator*(const U256& a, const U256& b) {
  U256 out;
  for (std::size_t i = 0; i < 4; ++i) {
    U128 carry = 0;
    for (std::size_t j = 0; i + j < 4; ++j) {
      const U128 cur = U128{a.limbs_[i]} * b.limbs_[j] + out.limbs_[i + j] + carry;
      out.limbs_[i + j] = static_cast<std::uint64_t>(cur);
      carry = cur >> 64;
    }
  }
  return out;
}

U256 U256::operator-() const {
  return ~*this + from_u64(1);
}

U256 U256::operator~() const {
  U256 out;
  for (std::size_t i = 0; i < 4; ++i) out.limbs_[i] = ~limbs_[i];
  return out;
}

U256 U256::operator<<(unsigned shift) const {
  if (shift >= 256) return U256();
  U256 out;
  const unsigned limb_shift = shift / 64;
  const unsigned bit_shift = shift % 64;
  for (unsigned i = 4; i-- > limb_shift;) {
    std::uint64_t v = limbs_[i - limb_shift] << bit_shift;
    if (bit_shift != 0 && i > limb_shift) v |= limbs_[i - limb_shift - 1] >> (64 - bit_shift);
    out.limbs_[i] = v;
  }
  return out;
}

U256 U256::operator>>(unsigned shift) const {
  if (shift >= 256) return U256();
  U256 out;
  const unsigned limb_shift = shift / 64;
  const unsigned bit_shift = shift % 64;
  for (unsigned i = 0; i + limb_shift < 4; ++i) {
    std::uint64_t v = limbs_[i + limb_shift] >> bit_shift;
    if (bit_shift != 0 && i + limb_shift + 1 < 4) v |= limbs_[i + limb_shift + 1] << (64 - bit_shift);
    out.limbs_[i] = v;
  }
  return out;
}

std::optional<U256> U256::checked_add(const U256& a, const U256& b) {
  const U256 sum = a + b;
  if (sum < a) return std::nullopt;
  return sum;
}

std::optional<U256> U256::checked_mul(const U256& a, const U256& b) {
  if (a.bit_length() + b.bit_length() > 257) return std::nullopt;
  // Within 257 bits the product may still carry out of bit 255: check by a full 512-bit product's top.
  std::array<std::uint64_t, 8> wide{};
  for (std::size_t i = 0; i < 4; ++i) {
    U128 carry = 0;
    for (std::size_t j = 0; j < 4; ++j) {
      const U128 cur = U128{a.limbs_[i]} * b.limbs_[j] + wide[i + j] + carry;
      wide[i + j] = static_cast<std::uint64_t>(cur);
      carry = cur >> 64;
    }
    wide[i + 4] = static_cast<std::uint64_t>(carry);
  }
  if (wide[4] != 0 || wide[5] != 0 || wide[6] != 0 || wide[7] != 0) return std::nullopt;
  U256 out;
  std::copy(wide.begin(), wide.begin() + 4, out.limbs_.begin());
  return out;
}

U256 U256::mul_div(std::uint64_t num, std::uint64_t den) const {
  if (den == 0) throw std::invalid_argument("U256::mul_div: zero denominator");
  std::array<std::uint64_t, 5> wide{};
  U128 carry = 0;
  for (std::size_t i = 0; i < 4; ++i) {
    const U128 cur = U128{limbs_[i]} * num + carry;
    wide[i] = static_cast<std::uint64_t>(cur);
    carry = cur >> 64;
  }
  wide[4] = static_cast<std::uint64_t>(carry);
  div_small(wide, den);
  if (wide[4] != 0) return max();
  U256 out;
  std::copy(wide.begin(), wide.begin() + 4, out.limbs_.begin());
  return out;
}

}  // namespace rally::critique::eth
