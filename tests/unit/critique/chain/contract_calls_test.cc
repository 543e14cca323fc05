#include "services/critique/chain/contract_calls.h"

#include <boost/json.hpp>
#include <catch2/catch.hpp>
#include <set>

#include "services/critique/chain/revert_reason.h"
#include "services/critique/contracts/compiled_contracts.h"
#include "services/critique/eth/abi.h"

namespace rally::critique::chain {
namespace {

namespace abi = eth::abi;

// The canonical signatures of the compiled ABI's functions and events.
std::set<std::string> signatures_of(std::string_view abi_json, std::string_view kind) {
  std::set<std::string> signatures;
  const boost::json::value abi = boost::json::parse(abi_json);
  for (const boost::json::value& entry : abi.as_array()) {
    const auto& object = entry.as_object();
    if (object.at("type").as_string() != kind) continue;
    std::string signature = std::string(object.at("name").as_string()) + "(";
    bool first = true;
    for (const auto& input : object.at("inputs").as_array()) {
      if (!first) signature += ",";
      signature += std::string(input.at("type").as_string());
      first = false;
    }
    signatures.insert(signature + ")");
  }
  return signatures;
}

TEST_CASE("the calls the service makes exist in the compiled contracts", "[critique]") {
  const auto critic = signatures_of(contracts::llm_critic().abi_json, "function");
  const auto oracle = signatures_of(contracts::llm_oracle().abi_json, "function");
  CHECK(critic.count("sendMessage(string)") == 1);
  CHECK(critic.count("getAnswer(uint256)") == 1);
  CHECK(critic.count("response()") == 1);
  CHECK(oracle.count("addResponse(uint256,uint256,string,string)") == 1);
  CHECK(oracle.count("isAnswered(uint256)") == 1);
  CHECK(oracle.count("setWorker(address,bool)") == 1);
  // The original app's selectors.
  CHECK(eth::to_hex(encode_send_message("x")).substr(0, 10) == "0x469c8110");
}

TEST_CASE("the events the service reads exist in the compiled contracts", "[critique]") {
  const auto critic = signatures_of(contracts::llm_critic().abi_json, "event");
  const auto oracle = signatures_of(contracts::llm_oracle().abi_json, "event");
  CHECK(critic.count("RunStarted(uint256,address,bytes32,uint256)") == 1);
  CHECK(critic.count("AnswerReceived(uint256,string,string)") == 1);
  CHECK(oracle.count("PromptAdded(uint256,uint256,address,string)") == 1);
  CHECK(answer_received_topic() == eth::keccak256("AnswerReceived(uint256,string,string)"));
}

TEST_CASE("an AnswerReceived log decodes and a log of another event does not", "[critique]") {
  LogEntry log;
  log.topics = {answer_received_topic(), topic_of(U256::from_u64(42))};
  log.data = abi::encode({abi::Type::parse("string").value(), abi::Type::parse("string").value()},
                         {abi::Value::string(R"({"score":4})"), abi::Value::string("")})
                 .value();
  log.block_number = 9;
  auto answer = decode_answer_received(log);
  REQUIRE(answer.ok());
  CHECK(answer->run_id.to_decimal() == "42");
  CHECK(answer->response == R"({"score":4})");
  CHECK(answer->error.empty());
  CHECK(answer->block_number == 9);

  log.topics[0] = prompt_added_topic();
  CHECK_FALSE(decode_answer_received(log).ok());
  log.topics = {answer_received_topic()};  // the indexed run id is missing
  CHECK_FALSE(decode_answer_received(log).ok());
}

TEST_CASE("revert data reads as its reason", "[critique]") {
  const eth::Bytes error_string = abi::Function::parse("Error(string)")
                                      .value()
                                      .encode_call({abi::Value::string("already answered")})
                                      .value();
  CHECK(revert_reason(error_string) == "already answered");
  const eth::Bytes panic =
      abi::Function::parse("Panic(uint256)").value().encode_call({abi::Value::uint(0x11)}).value();
  CHECK(revert_reason(panic) == "panic 0x11 (arithmetic overflow)");
  CHECK(revert_reason({}) == "no reason given");
  CHECK(revert_reason(eth::Bytes{0xde, 0xad, 0xbe, 0xef}) == "custom error 0xdeadbeef");
  CHECK_THAT(revert_reason(eth::Bytes{0x08, 0xc3, 0x79, 0xa0, 0x01}),
             Catch::StartsWith("malformed Error(string)"));
}

}  // namespace
}  // namespace rally::critique::chain
