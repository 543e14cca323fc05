#include "services/critique/eth/rlp.h"

#include <catch2/catch.hpp>
#include <random>
#include <stdexcept>
#include <string>

namespace rally::critique::eth::rlp {
namespace {

Bytes hex(std::string_view text) {
  return from_hex(text).value();
}

std::string encoded(const Item& item) {
  return to_hex(encode(item));
}

// Decodes `text` and checks the result re-encodes to the same bytes.
Item round_trip(std::string_view text) {
  const auto item = decode(hex(text));
  REQUIRE(item.ok());
  CHECK(to_hex(encode(item.value())) == text);
  return item.value();
}

Item nested_lists(int depth) {
  Item item = Item::list({});
  for (int i = 1; i < depth; ++i) item = Item::list({item});
  return item;
}

constexpr std::string_view kLorem = "Lorem ipsum dolor sit amet, consectetur adipisicing elit";

}  // namespace

TEST_CASE("RLP encodes the specification's examples", "[eth]") {
  CHECK(encoded(Item::string("dog")) == "0x83646f67");
  CHECK(encoded(Item::list({Item::string("cat"), Item::string("dog")})) == "0xc88363617483646f67");
  CHECK(encoded(Item::string("")) == "0x80");
  CHECK(encoded(Item::list({})) == "0xc0");
  CHECK(encoded(Item::uint(std::uint64_t{0})) == "0x80");
  CHECK(encoded(Item::bytes({0x00})) == "0x00");
  CHECK(encoded(Item::uint(std::uint64_t{15})) == "0x0f");
  CHECK(encoded(Item::uint(std::uint64_t{1024})) == "0x820400");
  CHECK(encoded(Item::uint(U256::from_u64(1024))) == "0x820400");
  const Item set_theoretic = Item::list({Item::list({}), Item::list({Item::list({})}),
                                         Item::list({Item::list({}), Item::list({Item::list({})})})});
  CHECK(encoded(set_theoretic) == "0xc7c0c1c0c3c0c1c0");
  REQUIRE(kLorem.size() == 56);
  CHECK(encoded(Item::string(kLorem)) ==
        "0xb8384c6f72656d20697073756d20646f6c6f722073697420616d65742c20636f6e73656374657475722061646970697369"
        "63696e6720"
        "656c6974");
}

TEST_CASE("RLP decodes the specification's examples back to the same items", "[eth]") {
  CHECK(round_trip("0x83646f67") == Item::string("dog"));
  const Item pair = round_trip("0xc88363617483646f67");
  REQUIRE(pair.is_list());
  REQUIRE(pair.as_list().size() == 2);
  CHECK(pair.as_list()[1].as_bytes() == Bytes{'d', 'o', 'g'});
  CHECK(round_trip("0x80") == Item::string(""));
  CHECK(round_trip("0xc0") == Item::list({}));
  CHECK(round_trip("0x0f").as_uint() == U256::from_u64(15));
  CHECK(round_trip("0x820400").as_uint() == U256::from_u64(1024));
  CHECK(round_trip("0x80").as_uint() == U256());
  const Item set = round_trip("0xc7c0c1c0c3c0c1c0");
  CHECK(set.as_list().size() == 3);
  CHECK(set.as_list()[2].as_list()[1].as_list()[0] == Item::list({}));
  CHECK(round_trip(
            "0xb8384c6f72656d20697073756d20646f6c6f722073697420616d65742c20636f6e73656374657475722061646970"
            "69736963696e6720656c6974") == Item::string(kLorem));
}

TEST_CASE("RLP long forms: a 1 KiB string and a list over 55 bytes round-trip", "[eth]") {
  const Item big = Item::bytes(Bytes(1024, 0xaa));
  const Bytes raw = encode(big);
  CHECK(to_hex(Bytes(raw.begin(), raw.begin() + 3)) == "0xb90400");
  CHECK(decode(raw).value() == big);

  std::vector<Item> words;
  for (int i = 0; i < 20; ++i) words.push_back(Item::string("dog"));
  const Item list = Item::list(words);
  const Bytes list_raw = encode(list);
  CHECK(to_hex(Bytes(list_raw.begin(), list_raw.begin() + 2)) == "0xf850");  // 80-byte payload
  CHECK(decode(list_raw).value() == list);
}

TEST_CASE("RLP rejects non-canonical, truncated and trailing input", "[eth]") {
  const auto rejected = [](std::string_view text) {
    const auto result = decode(hex(text));
    CHECK_FALSE(result.ok());
    return result.ok() ? std::string() : result.error().message;
  };
  CHECK(rejected("0x") == "RLP: unexpected end of input");
  CHECK(rejected("0x8100").find("single byte") != std::string::npos);  // 0x00 must be written as itself
  CHECK(rejected("0x817f").find("single byte") != std::string::npos);
  CHECK(decode(hex("0x8180")).ok());  // 0x80 needs its prefix
  rejected("0x83646f");               // truncated string
  rejected("0xc883636174");           // truncated list
  rejected("0xc283646f67");           // child runs past its list
  CHECK(rejected("0x83646f6700").find("trailing") != std::string::npos);
  CHECK(rejected("0xb803646f67").find("under 56") != std::string::npos);  // long form for a short string
  CHECK(rejected("0xf803c0c0c0").find("under 56") != std::string::npos);
  CHECK(rejected("0xb90038" + std::string(112, '6')).find("leading zero") != std::string::npos);
  rejected("0xb8");                  // length byte missing
  rejected("0xbfffffffffffffffff");  // 2^64-1 bytes announced
  rejected("0xfbffffffff00");        // list of 4 GiB announced
}

TEST_CASE("RLP integers read back only in canonical form", "[eth]") {
  CHECK(decode(hex("0x820004")).value().as_uint() == std::nullopt);  // leading zero byte
  CHECK(decode(hex("0x00")).value().as_uint() == std::nullopt);      // zero is the empty string
  CHECK(Item::bytes(Bytes(33, 1)).as_uint() == std::nullopt);
  CHECK(Item::list({}).as_uint() == std::nullopt);
  CHECK(Item::uint(U256::max()).as_uint() == U256::max());
}

TEST_CASE("RLP decoding stops at the nesting limit instead of exhausting the stack", "[eth]") {
  CHECK(decode(encode(nested_lists(kMaxDepth))).ok());
  const auto too_deep = decode(encode(nested_lists(kMaxDepth + 1)));
  REQUIRE_FALSE(too_deep.ok());
  CHECK(too_deep.error().message.find("nested deeper") != std::string::npos);
  // A hostile prefix chain without any payload is an error too.
  CHECK_FALSE(decode(Bytes(100000, 0xc1)).ok());
}

TEST_CASE("RLP items refuse the accessor of the other kind", "[eth]") {
  CHECK_THROWS_AS(Item::list({}).as_bytes(), std::logic_error);
  CHECK_THROWS_AS(Item::string("x").as_list(), std::logic_error);
}

}  // namespace rally::critique::eth::rlp

namespace rally::critique::eth::rlp {

TEST_CASE("RLP decoding of mutated transactions either fails or is canonical", "[eth]") {
  // Strictness means decode and encode are inverse: any input that decodes re-encodes to itself.
  const Bytes seed =
      from_hex(
          "0xf86c098504a817c800825208943535353535353535353535353535353535353535880de0b6b3a76400008025a028"
          "ef61340bd939bc2195fe537567866003e1a15d3c71ff63e1590620aa636276a067cbe9d8997f761aecb703304b38"
          "00ccf555c9f3dc64214b297fb1966a3b6d83")
          .value();
  std::mt19937 rng(20240611);  // fixed: the test is hermetic
  int decoded = 0;
  for (int round = 0; round < 5000; ++round) {
    Bytes input = seed;
    const int edits = 1 + static_cast<int>(rng() % 3);
    for (int e = 0; e < edits; ++e) {
      const std::size_t at = rng() % input.size();
      switch (rng() % 3) {
        case 0:
          input[at] = static_cast<std::uint8_t>(rng());
          break;
        case 1:
          input.erase(input.begin() + static_cast<std::ptrdiff_t>(at));
          break;
        default:
          input.insert(input.begin() + static_cast<std::ptrdiff_t>(at), static_cast<std::uint8_t>(rng()));
      }
      if (input.empty()) input.push_back(0xc0);
    }
    const auto item = decode(input);
    if (item.ok()) {
      ++decoded;
      CHECK(encode(item.value()) == input);
    }
  }
  CHECK(decoded > 0);  // byte changes inside strings keep the input valid
}

}  // namespace rally::critique::eth::rlp
