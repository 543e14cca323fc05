#include "services/critique/eth/abi_codec.h"

#include <catch2/catch.hpp>
#include <initializer_list>
#include <random>
#include <string>

#include "services/critique/eth/abi_function.h"

namespace rally::critique::eth::abi {
namespace {

std::vector<Type> types(std::string_view list) {
  return parse_types(list).value();
}

// Concatenates 64-digit words (without 0x) into one hex string.
std::string words(std::initializer_list<std::string_view> parts) {
  std::string out = "0x";
  for (const std::string_view part : parts) {
    REQUIRE(part.size() == 64);
    out += part;
  }
  return out;
}

std::string word(std::uint64_t value) {
  return to_hex(U256::from_u64(value).to_big_endian()).substr(2);
}

Bytes hex(std::string_view text) {
  return from_hex(text).value();
}

// Encodes, checks the bytes, decodes and checks the values come back.
void check_both_ways(std::string_view type_list, const std::vector<Value>& values,
                     const std::string& expected) {
  const auto t = types(type_list);
  const auto encoded = encode(t, values);
  REQUIRE(encoded.ok());
  CHECK(to_hex(encoded.value()) == expected);
  const auto decoded = decode(t, encoded.value());
  REQUIRE(decoded.ok());
  CHECK(decoded.value() == values);
}

// Encode then decode gives the same values.
void check_round_trip(std::string_view type_list, const std::vector<Value>& values) {
  const auto t = types(type_list);
  const auto encoded = encode(t, values);
  REQUIRE(encoded.ok());
  const auto decoded = decode(t, encoded.value());
  REQUIRE(decoded.ok());
  CHECK(decoded.value() == values);
}

Value text(std::string_view s) {
  return Value::string(std::string(s));
}

Bytes ascii(std::string_view s) {
  return Bytes(s.begin(), s.end());
}

}  // namespace

TEST_CASE("Solidity docs: baz(uint32,bool) with 69 and true", "[eth]") {
  const Function baz = Function::parse("baz(uint32,bool)").value();
  CHECK(to_hex(baz.selector()) == "0xcdcd77c0");
  CHECK(to_hex(baz.encode_call({Value::uint(69), Value::boolean(true)}).value()) ==
        "0xcdcd77c0" + words({word(69), word(1)}).substr(2));
  check_both_ways("uint32,bool", {Value::uint(69), Value::boolean(true)}, words({word(69), word(1)}));
}

TEST_CASE("Solidity docs: sam with bytes dave, bool true and the uint256 array 1, 2, 3", "[eth]") {
  const Function sam = Function::parse("sam(bytes,bool,uint256[])").value();
  CHECK(to_hex(sam.selector()) == "0xa5643bf2");
  const std::vector<Value> args{Value::bytes(ascii("dave")), Value::boolean(true),
                                Value::array({Value::uint(1), Value::uint(2), Value::uint(3)})};
  const std::string expected = words({word(0x60), word(1), word(0xa0), word(4),
                                      "6461766500000000000000000000000000000000000000000000000000000000",
                                      word(3), word(1), word(2), word(3)});
  CHECK(to_hex(sam.encode_call(args).value()) == "0xa5643bf2" + expected.substr(2));
  check_both_ways("bytes,bool,uint256[]", args, expected);
}

TEST_CASE("Solidity docs: f with uint256, a uint32 array, bytes10 and bytes", "[eth]") {
  const Function f = Function::parse("f(uint256,uint32[],bytes10,bytes)").value();
  CHECK(to_hex(f.selector()) == "0x8be65246");
  const std::vector<Value> args{Value::uint(0x123), Value::array({Value::uint(0x456), Value::uint(0x789)}),
                                Value::fixed_bytes(ascii("1234567890")),
                                Value::bytes(ascii("Hello, world!"))};
  const std::string expected =
      words({word(0x123), word(0x80), "3132333435363738393000000000000000000000000000000000000000000000",
             word(0xe0), word(2), word(0x456), word(0x789), word(13),
             "48656c6c6f2c20776f726c642100000000000000000000000000000000000000"});
  CHECK(to_hex(f.encode_call(args).value()) == "0x8be65246" + expected.substr(2));
  check_both_ways("uint256,uint32[],bytes10,bytes", args, expected);
}

TEST_CASE("Solidity docs: g with a uint256 array of arrays and a string array", "[eth]") {
  const Function g = Function::parse("g(uint256[][],string[])").value();
  CHECK(to_hex(g.selector()) == "0x2289b18c");
  const std::vector<Value> args{
      Value::array({Value::array({Value::uint(1), Value::uint(2)}), Value::array({Value::uint(3)})}),
      Value::array({text("one"), text("two"), text("three")})};
  const std::string expected =
      words({word(0x40), word(0x140),
             word(2),    word(0x40),
             word(0xa0), word(2),
             word(1),    word(2),
             word(1),    word(3),
             word(3),    word(0x60),
             word(0xa0), word(0xe0),
             word(3),    "6f6e650000000000000000000000000000000000000000000000000000000000",
             word(3),    "74776f0000000000000000000000000000000000000000000000000000000000",
             word(5),    "7468726565000000000000000000000000000000000000000000000000000000"});
  check_both_ways("uint256[][],string[]", args, expected);
}

TEST_CASE("Signed integers encode as two's complement and round-trip", "[eth]") {
  check_both_ways("int8,int256", {Value::int_(-1), Value::int_(-2)},
                  words({std::string(64, 'f'), std::string(63, 'f') + "e"}));
  check_round_trip("int8,int16,int64,int256", {Value::int_(-128), Value::int_(32767), Value::int_(INT64_MIN),
                                               Value::int_word(U256::from_u64(1) << 255)});
  const auto decoded = decode(types("int64"), encode(types("int64"), {Value::int_(-42)}).value()).value();
  CHECK(decoded[0].as_int64() == -42);
  CHECK(decoded[0].as_uint() == std::nullopt);
  CHECK(Value::int_word(U256::from_u64(1) << 255).as_int64() == std::nullopt);
  CHECK(Value::int_(INT64_MIN).as_int64() == INT64_MIN);
}

TEST_CASE("Every type round-trips, including tuples holding dynamic data", "[eth]") {
  const Address addr = Address::parse("0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266").value();
  check_round_trip("uint8,uint256,address,bool,bytes1,bytes32,bytes,string",
                   {Value::uint(255), Value::uint(U256::max()), Value::address(addr), Value::boolean(false),
                    Value::fixed_bytes({0xab}), Value::fixed_bytes(Bytes(32, 0x11)),
                    Value::bytes(Bytes(33, 0x22)), text("")});
  check_round_trip(
      "(uint256,string)[],bool[2][],string[2],(bytes,(address,int8)[2])",
      {Value::array({Value::tuple({Value::uint(1), text("a")}),
                     Value::tuple({Value::uint(2), text("long enough to need two words, surely")})}),
       Value::array({Value::array({Value::boolean(true), Value::boolean(false)})}),
       Value::array({text("x"), text("y")}),
       Value::tuple(
           {Value::bytes({}), Value::array({Value::tuple({Value::address(addr), Value::int_(-5)}),
                                            Value::tuple({Value::address(Address{}), Value::int_(5)})})})});
  check_round_trip("uint256[][][]",
                   {Value::array({Value::array({}), Value::array({Value::array({Value::uint(7)})})})});
  check_round_trip("", {});
}

TEST_CASE("A value that does not match its type is an encode error", "[eth]") {
  const auto rejected = [](std::string_view type_list, const std::vector<Value>& values) {
    const auto result = encode(types(type_list), values);
    CHECK_FALSE(result.ok());
    if (!result.ok()) CHECK(result.error().code == common::ErrorCode::kInvalidRequest);
  };
  rejected("uint8", {Value::uint(256)});
  rejected("uint256", {Value::int_(1)});
  rejected("int8", {Value::int_(128)});
  rejected("int8", {Value::int_(-129)});
  rejected("int256", {Value::uint(1)});
  rejected("bool", {Value::uint(1)});
  rejected("bytes4", {Value::fixed_bytes({1, 2, 3})});
  rejected("bytes4", {Value::bytes({1, 2, 3, 4})});
  rejected("string", {Value::bytes({})});
  rejected("address", {Value::fixed_bytes(Bytes(20, 0))});
  rejected("uint256[2]", {Value::array({Value::uint(1)})});
  rejected("(uint256,bool)", {Value::tuple({Value::uint(1)})});
  rejected("uint256[]", {Value::array({Value::boolean(true)})});
  rejected("uint256,bool", {Value::uint(1)});
  const auto message = encode(types("uint256,uint8[]"), {Value::uint(1), Value::array({Value::uint(300)})});
  REQUIRE_FALSE(message.ok());
  CHECK(message.error().message.find("argument[1][0]") != std::string::npos);
}

TEST_CASE("Decoding rejects out-of-range words", "[eth]") {
  CHECK_FALSE(decode(types("uint8"), hex(words({word(256)}))).ok());
  CHECK_FALSE(decode(types("bool"), hex(words({word(2)}))).ok());
  CHECK_FALSE(decode(types("address"),
                     hex(words({"0100000000000000000000000000000000000000000000000000000000000000"})))
                  .ok());
  CHECK_FALSE(decode(types("int8"), hex(words({word(128)}))).ok());
  CHECK(decode(types("int8"), hex(words({std::string(62, 'f') + "80"}))).value()[0].as_int64() == -128);
  CHECK_FALSE(decode(types("bytes2"),
                     hex(words({"1234560000000000000000000000000000000000000000000000000000000000"})))
                  .ok());
}

TEST_CASE("Decoding hostile data gives errors, not crashes or huge allocations", "[eth]") {
  const auto rejected = [](std::string_view type_list, const std::string& data) {
    const auto result = decode(types(type_list), hex(data));
    CHECK_FALSE(result.ok());
    return result.ok() ? std::string() : result.error().message;
  };
  rejected("uint256", "0x");
  rejected("uint256", "0x" + std::string(62, '0'));  // 31 bytes
  CHECK(rejected("string", words({word(0x1000)})).find("offset") != std::string::npos);
  rejected("string", words({std::string(64, 'f')}));  // offset 2^256 - 1
  CHECK(rejected("string", words({word(0x20), word(0x1000000)})).find("length") != std::string::npos);
  rejected("bytes", words({word(0x20), std::string(64, 'f')}));            // length 2^256 - 1
  rejected("bytes", words({word(0x20), word(33), std::string(64, 'a')}));  // 33 bytes, 32 there
  CHECK(rejected("uint256[]",
                 words({word(0x20), "00000000000000000000000000000000000000000000000000000000ffffffff"}))
            .find("array length") != std::string::npos);
  rejected("uint256[]", words({word(0x20), word(3), word(1), word(2)}));  // one element short
  rejected("()[]", words({word(0x20), "000000000000000000000000000000000000000000000000ffffffffffffffff"}));
  rejected("uint256[3]", words({word(1), word(2)}));
  rejected("(uint256,string)", words({word(0x20), word(1)}));  // tuple's offset ok, inner not
}

TEST_CASE("Offsets that alias one tail cannot make decoding blow up", "[eth]") {
  // uint256[][][]: each level is 2000 offsets all pointing at the same 2000-entry array one level down, so an
  // honest reading would produce 2000^3 values from 200 KB.
  constexpr std::uint64_t kFan = 2000;
  std::string data = "0x" + word(0x20);
  const auto level = [&](std::uint64_t next_offset) {
    data += word(kFan);
    for (std::uint64_t i = 0; i < kFan; ++i) data += word(next_offset);
  };
  // Offsets are relative to the array's elements: the next level starts right after this one.
  level(32 * kFan);
  level(32 * kFan);
  data += word(kFan);
  for (std::uint64_t i = 0; i < kFan; ++i) data += word(i);
  const auto result = decode(types("uint256[][][]"), hex(data));
  REQUIRE_FALSE(result.ok());
  CHECK(result.error().message.find("aliased") != std::string::npos);
}

}  // namespace rally::critique::eth::abi

namespace rally::critique::eth::abi {

TEST_CASE("Decoding mutated ABI data never crashes and what decodes re-encodes to valid data", "[eth]") {
  const auto t = types("(uint256,string)[],bytes,uint8[2],address");
  const Bytes seed = encode(t, {Value::array({Value::tuple({Value::uint(1), text("one")}),
                                              Value::tuple({Value::uint(2), text("two")})}),
                                Value::bytes(Bytes(40, 0x7f)), Value::array({Value::uint(3), Value::uint(4)}),
                                Value::address(Address{})})
                         .value();
  std::mt19937 rng(7);  // fixed: the test is hermetic
  int decoded = 0;
  for (int round = 0; round < 3000; ++round) {
    Bytes input = seed;
    const std::size_t at = rng() % input.size();
    // Small changes to one byte of a word's low end hit offsets and lengths; anywhere else hits content.
    input[at] = static_cast<std::uint8_t>(rng() % 2 == 0 ? rng() : input[at] + 32);
    if (rng() % 4 == 0) input.resize(rng() % input.size());
    const auto values = decode(t, input);
    if (!values.ok()) continue;
    ++decoded;
    const auto again = encode(t, values.value());
    REQUIRE(again.ok());
    CHECK(decode(t, again.value()).value() == values.value());
  }
  CHECK(decoded > 0);
}

}  // namespace rally::critique::eth::abi
