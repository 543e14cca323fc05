#include "services/common/digest.h"

#include <catch2/catch.hpp>

namespace rally::common {
namespace {

// Known answers from FIPS 180 and RFC 3174 ("abc") and of the empty input.
TEST_CASE("sha256_hex matches the standard's test vectors", "[digest]") {
  CHECK(sha256_hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  CHECK(sha256_hex("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

TEST_CASE("sha1_hex matches the standard's test vectors", "[digest]") {
  CHECK(sha1_hex("abc") == "a9993e364706816aba3e25717850c26c9cd0d89d");
  CHECK(sha1_hex("") == "da39a3ee5e6b4b0d3255bfef95601890afd80709");
}

TEST_CASE("hex_digits writes two lower-case digits a byte", "[digest]") {
  const unsigned char bytes[] = {0x00, 0x0f, 0xa0, 0xff};
  CHECK(hex_digits(bytes, sizeof bytes) == "000fa0ff");
  CHECK(hex_digits(bytes, 0).empty());
}

TEST_CASE("sha256 and sha256_hex agree", "[digest]") {
  const auto bytes = sha256("abc");
  CHECK(bytes[0] == 0xba);
  CHECK(bytes[31] == 0xad);
}

}  // namespace
}  // namespace rally::common
