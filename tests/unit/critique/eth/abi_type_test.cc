#include "services/critique/eth/abi_type.h"

#include <catch2/catch.hpp>
#include <string>

namespace rally::critique::eth::abi {
namespace {

std::string canonical(std::string_view text) {
  const auto type = Type::parse(text);
  REQUIRE(type.ok());
  return type->canonical();
}

}  // namespace

TEST_CASE("ABI types parse and print back in canonical form", "[eth]") {
  for (const std::string_view text :
       {"uint8", "uint256", "int16", "int256", "address", "bool", "bytes", "bytes1", "bytes32", "string",
        "uint256[]", "string[]", "uint8[3]", "uint32[][2]", "(uint256,string)", "(address,(bool,bytes)[])[4]",
        "()"}) {
    CHECK(canonical(text) == text);
  }
  CHECK(canonical("uint") == "uint256");
  CHECK(canonical("int[]") == "int256[]");
}

TEST_CASE("ABI types know their kind, size and whether they are dynamic", "[eth]") {
  const Type arr = Type::parse("uint32[][2]").value();
  CHECK(arr.kind() == Type::Kind::kFixedArray);
  CHECK(arr.size() == 2);
  CHECK(arr.is_dynamic());
  CHECK(arr.head_size() == 32);
  CHECK(arr.element().kind() == Type::Kind::kArray);
  CHECK(arr.element().element().bits() == 32);

  const Type tuple = Type::parse("(uint256,bytes10,bool[3])").value();
  CHECK_FALSE(tuple.is_dynamic());
  CHECK(tuple.head_size() == 32 * 5);
  CHECK(tuple.components().size() == 3);
  CHECK(tuple.components()[1].size() == 10);
  CHECK(Type::parse("(uint256,string)").value().is_dynamic());
  CHECK(Type::parse("address").value().is_elementary());
  CHECK_FALSE(Type::parse("string").value().is_elementary());
  CHECK(Type::parse("()").value().head_size() == 0);
}

TEST_CASE("Malformed ABI types are errors", "[eth]") {
  for (const std::string_view text : {"",
                                      "uint7",
                                      "uint0",
                                      "uint264",
                                      "uint08",
                                      "bytes0",
                                      "bytes33",
                                      "bytes01",
                                      "float",
                                      "Uint256",
                                      "uint256[",
                                      "uint256[0]",
                                      "uint256[-1]",
                                      "uint256[x]",
                                      "uint256[65537]",
                                      "(uint256",
                                      "(uint256,)",
                                      "(,uint256)",
                                      "uint256 ",
                                      " uint256",
                                      "uint256,bool",
                                      "address payable",
                                      "tuple(uint256)"}) {
    INFO(text);
    const auto type = Type::parse(text);
    CHECK_FALSE(type.ok());
    if (!type.ok()) CHECK(type.error().code == common::ErrorCode::kInvalidRequest);
  }
}

TEST_CASE("ABI types are bounded in nesting and static size", "[eth]") {
  std::string deep = "uint256";
  for (int i = 0; i < kMaxNesting + 1; ++i) deep = "(" + deep + ")";
  CHECK_FALSE(Type::parse(deep).ok());
  CHECK(Type::parse("uint256[32768]").ok());  // exactly kMaxStaticSize bytes
  CHECK_FALSE(Type::parse("uint256[32769]").ok());
  CHECK_FALSE(Type::parse("uint8[1024][1024]").ok());  // 32 MiB of head
  CHECK(Type::parse("uint8[1024][]").ok());            // dynamic: its size is the data's
}

TEST_CASE("Parameter lists accept names, spaces and, for events, indexed", "[eth]") {
  std::size_t pos = 0;
  const std::string_view text = "(uint256 indexed promptId, address sender,string)";
  const auto params = parse_parameter_list(text, pos, true);
  REQUIRE(params.ok());
  CHECK(pos == text.size());
  REQUIRE(params->size() == 3);
  CHECK(params->at(0).indexed);
  CHECK(params->at(0).name == "promptId");
  CHECK_FALSE(params->at(1).indexed);
  CHECK(params->at(1).name == "sender");
  CHECK(params->at(2).type == Type::string());

  pos = 0;
  CHECK_FALSE(parse_parameter_list(text, pos, false).ok());
  CHECK(parse_types("uint256,string").value() == std::vector<Type>{Type::uint(), Type::string()});
  CHECK(parse_types("").value().empty());
  CHECK(canonical_list({Type::address(), Type::array(Type::uint(8))}) == "(address,uint8[])");
}

}  // namespace rally::critique::eth::abi
