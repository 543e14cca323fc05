#include "services/critique/eth/abi_function.h"

#include <catch2/catch.hpp>

namespace rally::critique::eth::abi {

TEST_CASE("Function selectors of the oracle flow and ERC-20", "[eth]") {
  CHECK(to_hex(Function::parse("sendMessage(string)").value().selector()) == "0x469c8110");
  CHECK(to_hex(Function::parse("response()").value().selector()) == "0x7a7f01a7");
  CHECK(to_hex(Function::parse("transfer(address,uint256)").value().selector()) == "0xa9059cbb");
}

TEST_CASE("Function signatures are canonical whatever the input spelling", "[eth]") {
  const Function f = Function::parse("transfer(address to, uint amount) returns (bool)").value();
  CHECK(f.name() == "transfer");
  CHECK(f.signature() == "transfer(address,uint256)");
  CHECK(to_hex(f.selector()) == "0xa9059cbb");
  CHECK(f.inputs() == std::vector<Type>{Type::address(), Type::uint()});
  CHECK(f.outputs() == std::vector<Type>{Type::boolean()});
  CHECK(Function::parse("response()").value().inputs().empty());
}

TEST_CASE("Malformed function signatures are errors", "[eth]") {
  for (const std::string_view text : {"", "()", "1f()", "f", "f(", "f(uint256", "f(uint256,)", "f(uint7)",
                                      "f() returns", "f() extra", "f(uint256 indexed)"}) {
    INFO(text);
    CHECK_FALSE(Function::parse(text).ok());
  }
}

TEST_CASE("encode_call prefixes the selector, decode_call and decode_output read data back", "[eth]") {
  Function send = Function::parse("sendMessage(string)").value();
  const auto calldata = send.encode_call({Value::string("Is this a good prompt?")});
  REQUIRE(calldata.ok());
  CHECK(to_hex(calldata.value()).substr(0, 10) == "0x469c8110");
  CHECK(calldata->size() == 4 + 32 * 3);
  CHECK(send.decode_call(calldata.value()).value()[0].as_string() == "Is this a good prompt?");
  CHECK_FALSE(send.encode_call({}).ok());
  CHECK_FALSE(send.encode_call({Value::uint(1)}).ok());

  const Function transfer = Function::parse("transfer(address,uint256)").value();
  CHECK_FALSE(transfer.decode_call(calldata.value()).ok());  // another selector
  CHECK_FALSE(transfer.decode_call(Bytes{0xa9, 0x05}).ok());

  Function response = Function::parse("response()").value();
  response.set_outputs({Type::string()});
  const Bytes returned =
      encode({Type::string()}, {Value::string(R"({"score": 7, "description": "ok"})")}).value();
  CHECK(response.decode_output(returned).value()[0].as_string() == R"({"score": 7, "description": "ok"})");
}

}  // namespace rally::critique::eth::abi
