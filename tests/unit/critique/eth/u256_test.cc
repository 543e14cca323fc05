#include "services/critique/eth/u256.h"

#include <catch2/catch.hpp>
#include <stdexcept>
#include <string>

namespace rally::critique::eth {
namespace {

constexpr std::string_view kMaxDecimal =
    "115792089237316195423570985008687907853269984665640564039457584007913129639935";  // 2^256 - 1
constexpr std::string_view kTwoTo256 =
    "115792089237316195423570985008687907853269984665640564039457584007913129639936";

U256 dec(std::string_view text) {
  return U256::parse_decimal(text).value();
}

}  // namespace

TEST_CASE("U256 defaults to zero and converts small values both ways", "[eth]") {
  CHECK(U256().is_zero());
  CHECK(U256().to_decimal() == "0");
  CHECK(U256().to_quantity() == "0x0");
  CHECK(U256().to_minimal_big_endian().empty());
  CHECK(U256::from_u64(26).to_quantity() == "0x1a");
  CHECK(U256::from_u64(26).to_u64() == std::optional<std::uint64_t>(26));
  CHECK(U256::from_u64(1024).to_minimal_big_endian() == Bytes{0x04, 0x00});
}

TEST_CASE("U256 decimal text round-trips up to 2^256 - 1 and rejects overflow and non-digits", "[eth]") {
  for (const std::string_view text :
       {std::string_view("0"), std::string_view("1"), std::string_view("18446744073709551615"),
        std::string_view("18446744073709551616"), std::string_view("1000000000000000000000000"),
        kMaxDecimal}) {
    CHECK(dec(text).to_decimal() == text);
  }
  CHECK(dec("000123").to_decimal() == "123");
  CHECK(dec(kMaxDecimal) == U256::max());
  CHECK(dec("18446744073709551616").to_u64() == std::nullopt);

  CHECK_FALSE(U256::parse_decimal(kTwoTo256).ok());
  CHECK_FALSE(U256::parse_decimal(std::string(kMaxDecimal) + "0").ok());
  CHECK_FALSE(U256::parse_decimal("").ok());
  CHECK_FALSE(U256::parse_decimal("-1").ok());
  CHECK_FALSE(U256::parse_decimal("12a").ok());
  CHECK_FALSE(U256::parse_decimal("0x10").ok());
  CHECK(U256::parse_decimal("1 ").error().code == common::ErrorCode::kInvalidRequest);
}

TEST_CASE("U256 JSON-RPC quantities round-trip and need the 0x prefix and at most 256 bits", "[eth]") {
  CHECK(U256::parse_quantity("0x0").value().is_zero());
  CHECK(U256::parse_quantity("0x1a").value() == U256::from_u64(26));
  CHECK(U256::parse_quantity("0X1A").value() == U256::from_u64(26));
  CHECK(U256::parse_quantity("0x01").value() == U256::from_u64(1));
  const std::string max_hex = "0x" + std::string(64, 'f');
  CHECK(U256::parse_quantity(max_hex).value() == U256::max());
  CHECK(U256::max().to_quantity() == max_hex);
  CHECK(U256::parse_quantity("0x" + std::string(70, '0') + "1").value() == U256::from_u64(1));
  const U256 wei = dec("1000000000000000000");
  CHECK(wei.to_quantity() == "0xde0b6b3a7640000");
  CHECK(U256::parse_quantity(wei.to_quantity()).value() == wei);

  CHECK_FALSE(U256::parse_quantity("").ok());
  CHECK_FALSE(U256::parse_quantity("0x").ok());
  CHECK_FALSE(U256::parse_quantity("1a").ok());
  CHECK_FALSE(U256::parse_quantity("0x1g").ok());
  CHECK_FALSE(U256::parse_quantity("0x1" + std::string(64, '0')).ok());
}

TEST_CASE("U256 big-endian bytes round-trip", "[eth]") {
  const Bytes raw{0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09};
  const U256 v = U256::from_big_endian(raw);
  CHECK(v.to_quantity() == "0x10203040506070809");
  CHECK(v.to_minimal_big_endian() == raw);
  const auto full = v.to_big_endian();
  CHECK(full[31] == 0x09);
  CHECK(full[23] == 0x01);
  CHECK(full[22] == 0x00);
  CHECK(U256::from_big_endian(full) == v);
  CHECK(U256::from_big_endian(Bytes{0x00, 0x00, 0x05}) == U256::from_u64(5));
  CHECK_THROWS_AS(U256::from_big_endian(Bytes(33, 0)), std::invalid_argument);
}

TEST_CASE("U256 compares, adds and multiplies across limbs, wrapping modulo 2^256", "[eth]") {
  const U256 two64 = dec("18446744073709551616");
  CHECK(U256::from_u64(~std::uint64_t{0}) + U256::from_u64(1) == two64);
  CHECK(two64 * two64 == dec("340282366920938463463374607431768211456"));
  CHECK(U256::from_u64(3) < two64);
  CHECK(two64 > U256::from_u64(~std::uint64_t{0}));
  CHECK(U256::max() + U256::from_u64(1) == U256());
  CHECK(U256() - U256::from_u64(1) == U256::max());
  CHECK(-U256::from_u64(1) == U256::max());
  CHECK(U256::max() * U256::max() == U256::from_u64(1));  // (-1) * (-1) mod 2^256
  CHECK((U256::from_u64(1) << 255).bit(255));
  CHECK((U256::from_u64(1) << 255 >> 255) == U256::from_u64(1));
  CHECK((U256::from_u64(1) << 256).is_zero());
  CHECK(U256::max().bit_length() == 256);
  CHECK(U256::from_u64(1).bit_length() == 1);

  CHECK(U256::checked_add(U256::max(), U256::from_u64(1)) == std::nullopt);
  CHECK(U256::checked_mul(two64 * two64, two64 * two64) == std::nullopt);
  CHECK(U256::checked_mul(two64 * two64, two64).value() == two64 * two64 * two64);
}

TEST_CASE("U256 mul_div is exact with a wide intermediate and saturates when the quotient overflows",
          "[eth]") {
  CHECK(U256::from_u64(21000).mul_div(12, 10) == U256::from_u64(25200));
  CHECK(U256::from_u64(7).mul_div(1, 2) == U256::from_u64(3));  // floor
  // max * 3 / 4 needs 258 bits in between.
  CHECK(U256::max().mul_div(3, 4) ==
        dec("86844066927987146567678238756515930889952488499230423029593188005934847229951"));
  CHECK(U256::max().mul_div(2, 1) == U256::max());
  CHECK(U256::max().mul_div(1, 1) == U256::max());
  CHECK_THROWS_AS(U256::from_u64(1).mul_div(1, 0), std::invalid_argument);
}

}  // namespace rally::critique::eth
