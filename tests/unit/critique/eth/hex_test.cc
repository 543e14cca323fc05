#include "services/critique/eth/hex.h"

#include <catch2/catch.hpp>

namespace rally::critique::eth {

TEST_CASE("to_hex writes 0x and two lower-case digits per byte", "[eth]") {
  CHECK(to_hex(Bytes{}) == "0x");
  CHECK(to_hex(Bytes{0x00, 0x0f, 0xab, 0xff}) == "0x000fabff");
}

TEST_CASE("from_hex accepts either prefix, no prefix and both cases", "[eth]") {
  CHECK(from_hex("0x000fABff").value() == Bytes{0x00, 0x0f, 0xab, 0xff});
  CHECK(from_hex("0X0a").value() == Bytes{0x0a});
  CHECK(from_hex("deadBEEF").value() == Bytes{0xde, 0xad, 0xbe, 0xef});
  CHECK(from_hex("0x").value().empty());
  CHECK(from_hex("").value().empty());
}

TEST_CASE("from_hex rejects odd lengths and non-hex characters with an invalid-request error", "[eth]") {
  const auto odd = from_hex("0xabc");
  REQUIRE_FALSE(odd.ok());
  CHECK(odd.error().code == common::ErrorCode::kInvalidRequest);
  CHECK(odd.error().message.find("odd") != std::string::npos);

  const auto bad = from_hex("0x12zz");
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error().message.find("digit 2") != std::string::npos);

  CHECK_FALSE(from_hex("0x 1").ok());
  CHECK_FALSE(from_hex("x0").ok());
  CHECK_FALSE(from_hex("0x0x").ok());
}

TEST_CASE("Every byte value survives to_hex then from_hex", "[eth]") {
  Bytes all;
  for (int i = 0; i < 256; ++i) all.push_back(static_cast<std::uint8_t>(i));
  CHECK(from_hex(to_hex(all)).value() == all);
}

}  // namespace rally::critique::eth
