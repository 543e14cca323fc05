#include "services/critique/eth/address.h"

#include <algorithm>
#include <catch2/catch.hpp>
#include <cctype>
#include <string>

#include "services/critique/eth/hex.h"

namespace rally::critique::eth {
namespace {

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

std::string upper_digits(std::string s) {
  std::transform(s.begin() + 2, s.end(), s.begin() + 2,
                 [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  return s;
}

}  // namespace

TEST_CASE("EIP-55 examples parse and are written back with the same checksum", "[eth]") {
  for (const std::string example :
       {"0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed", "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359",
        "0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB", "0xD1220A0cf47c7B9Be7A2E6BA89F429762e7b9aDb"}) {
    const auto parsed = Address::parse(example);
    REQUIRE(parsed.ok());
    CHECK(parsed->checksummed() == example);
    CHECK(parsed->lower_hex() == lower(example));
    // Single-case forms carry no checksum and are accepted.
    CHECK(Address::parse(lower(example)).value() == parsed.value());
    CHECK(Address::parse(upper_digits(example)).value() == parsed.value());
  }
}

TEST_CASE("A mixed-case address that is not its EIP-55 checksum is rejected", "[eth]") {
  // One letter's case flipped from 0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed.
  const auto wrong = Address::parse("0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD");
  REQUIRE_FALSE(wrong.ok());
  CHECK(wrong.error().code == common::ErrorCode::kInvalidRequest);
  CHECK(wrong.error().message.find("EIP-55") != std::string::npos);
}

TEST_CASE("Addresses must be 0x and exactly 40 hex digits", "[eth]") {
  CHECK_FALSE(Address::parse("").ok());
  CHECK_FALSE(Address::parse("5aaeb6053f3e94c9b9a09f33669435e7ef1beaed").ok());
  CHECK_FALSE(Address::parse("0x5aaeb6053f3e94c9b9a09f33669435e7ef1beae").ok());
  CHECK_FALSE(Address::parse("0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed00").ok());
  CHECK_FALSE(Address::parse("0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaeg").ok());
  CHECK(Address::parse("0x0000000000000000000000000000000000000000").value().is_zero());
}

TEST_CASE("Addresses from raw bytes need exactly 20 of them", "[eth]") {
  const Bytes twenty(20, 0x35);
  CHECK(Address::from_bytes(twenty).value().lower_hex() == "0x3535353535353535353535353535353535353535");
  CHECK_FALSE(Address::from_bytes(Bytes(19, 0)).ok());
  CHECK_FALSE(Address::from_bytes(Bytes(21, 0)).ok());
}

}  // namespace rally::critique::eth
