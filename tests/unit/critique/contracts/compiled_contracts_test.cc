#include "services/critique/contracts/compiled_contracts.h"

#include <boost/json.hpp>
#include <catch2/catch.hpp>
#include <string>
#include <vector>

namespace rally::critique::contracts {
namespace {

// The ABI entry of the given type ("function", "event", ...) and name; a null object when there is none.
boost::json::object find_entry(const boost::json::array& abi, std::string_view type, std::string_view name) {
  for (const boost::json::value& entry : abi) {
    const boost::json::object& object = entry.as_object();
    const auto* entry_type = object.if_contains("type");
    const auto* entry_name = object.if_contains("name");
    if (entry_type && entry_type->as_string() == type && entry_name && entry_name->as_string() == name) {
      return object;
    }
  }
  return {};
}

// The canonical signature of an ABI entry, e.g. "sendMessage(string)": what its selector is hashed from.
std::string signature(const boost::json::object& entry) {
  std::string text(entry.at("name").as_string());
  text += '(';
  bool first = true;
  for (const boost::json::value& input : entry.at("inputs").as_array()) {
    if (!first) text += ',';
    text += input.as_object().at("type").as_string();
    first = false;
  }
  return text + ')';
}

boost::json::array parse_abi(const CompiledContract& contract) {
  boost::json::error_code error;
  boost::json::value abi = boost::json::parse(contract.abi_json, error);
  INFO(contract.name << ": " << error.message());
  REQUIRE_FALSE(error);
  REQUIRE(abi.is_array());
  return abi.as_array();
}

bool is_hex_bytes(std::string_view text) {
  if (text.empty() || text.size() % 2 != 0) return false;
  for (const char c : text) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

TEST_CASE("the critic's ABI keeps the original app's functions and adds per-run answers and events",
          "[critique][contracts]") {
  const boost::json::array abi = parse_abi(llm_critic());
  CHECK(llm_critic().name == "LlmCritic");

  const std::vector<std::pair<std::string_view, std::string>> functions{
      {"sendMessage", "sendMessage(string)"},
      {"response", "response()"},
      {"getAnswer", "getAnswer(uint256)"},
      {"onOracleLlmResponse", "onOracleLlmResponse(uint256,string,string)"},
      {"runCount", "runCount()"},
      {"oracle", "oracle()"}};
  for (const auto& [name, expected] : functions) {
    const boost::json::object entry = find_entry(abi, "function", name);
    INFO(name);
    REQUIRE_FALSE(entry.empty());
    CHECK(signature(entry) == expected);
  }
  const std::vector<std::pair<std::string_view, std::string>> events{
      {"RunStarted", "RunStarted(uint256,address,bytes32,uint256)"},
      {"AnswerReceived", "AnswerReceived(uint256,string,string)"}};
  for (const auto& [name, expected] : events) {
    const boost::json::object entry = find_entry(abi, "event", name);
    INFO(name);
    REQUIRE_FALSE(entry.empty());
    CHECK(signature(entry) == expected);
  }

  const boost::json::object get_answer = find_entry(abi, "function", "getAnswer");
  const boost::json::array& outputs = get_answer.at("outputs").as_array();
  REQUIRE(outputs.size() == 3);
  CHECK(outputs[0].as_object().at("type").as_string() == "bool");
  CHECK(outputs[1].as_object().at("type").as_string() == "string");
  CHECK(outputs[2].as_object().at("type").as_string() == "string");
  CHECK(get_answer.at("stateMutability").as_string() == "view");
}

TEST_CASE("the oracle's ABI has the worker, prompt and response entry points", "[critique][contracts]") {
  const boost::json::array abi = parse_abi(llm_oracle());
  CHECK(llm_oracle().name == "LlmOracle");
  for (const std::string_view expected :
       {"setWorker(address,bool)", "isWorker(address)", "createLlmCall(uint256,string)",
        "addResponse(uint256,uint256,string,string)", "isAnswered(uint256)", "promptHash(uint256)",
        "promptCount()", "owner()"}) {
    const std::string_view name = expected.substr(0, expected.find('('));
    const boost::json::object entry = find_entry(abi, "function", name);
    INFO(expected);
    REQUIRE_FALSE(entry.empty());
    CHECK(signature(entry) == expected);
  }
  for (const std::string_view expected :
       {"WorkerUpdated(address,bool)", "PromptAdded(uint256,uint256,address,string)",
        "ResponseAdded(uint256,uint256)"}) {
    const std::string_view name = expected.substr(0, expected.find('('));
    const boost::json::object entry = find_entry(abi, "event", name);
    INFO(expected);
    REQUIRE_FALSE(entry.empty());
    CHECK(signature(entry) == expected);
  }
}

TEST_CASE("the contracts' creation bytecode is lower-case hex without 0x", "[critique][contracts]") {
  for (const CompiledContract* contract : {&llm_oracle(), &llm_critic()}) {
    INFO(contract->name);
    CHECK(is_hex_bytes(contract->bytecode_hex));
    // solc's creation code starts by setting the free memory pointer: PUSH1 0x80 (0xa0 and up when the
    // contract has immutables) PUSH1 0x40 MSTORE.
    CHECK(contract->bytecode_hex.substr(0, 2) == "60");
    CHECK(contract->bytecode_hex.substr(4, 6) == "604052");
  }
}

TEST_CASE("the contracts were compiled by solc 0.8", "[critique][contracts]") {
  CHECK(solc_version().find("0.8.") != std::string_view::npos);
}

}  // namespace
}  // namespace rally::critique::contracts
