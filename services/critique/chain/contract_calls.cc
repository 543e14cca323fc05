#include "services/critique/chain/contract_calls.h"

#include <algorithm>
#include <utility>

#include "services/critique/contracts/compiled_contracts.h"
#include "services/critique/eth/abi.h"

namespace rally::critique::chain {
namespace {

namespace abi = eth::abi;
using common::Error;
using common::ErrorCode;
using common::Result;

// The signatures are constants of this file: a typo is a programming error, caught by the unit tests.
abi::Function function(std::string_view signature) {
  return abi::Function::parse(signature).value();
}
abi::EventSpec event(std::string_view signature) {
  return abi::parse_event(signature).value();
}

const abi::Function& send_message() {
  static const abi::Function f = function("sendMessage(string)");
  return f;
}
const abi::Function& get_answer() {
  static const abi::Function f = function("getAnswer(uint256) returns (bool,string,string)");
  return f;
}
const abi::Function& add_response() {
  static const abi::Function f = function("addResponse(uint256,uint256,string,string)");
  return f;
}
const abi::Function& is_answered() {
  static const abi::Function f = function("isAnswered(uint256) returns (bool)");
  return f;
}
const abi::Function& set_worker() {
  static const abi::Function f = function("setWorker(address,bool)");
  return f;
}
const abi::EventSpec& run_started() {
  static const abi::EventSpec e = event(
      "RunStarted(uint256 indexed runId, address indexed requester, bytes32 promptHash, uint256 promptId)");
  return e;
}
const abi::EventSpec& answer_received() {
  static const abi::EventSpec e =
      event("AnswerReceived(uint256 indexed runId, string response, string error)");
  return e;
}
const abi::EventSpec& prompt_added() {
  static const abi::EventSpec e = event(
      "PromptAdded(uint256 indexed promptId, uint256 indexed callbackId, address sender, string prompt)");
  return e;
}

// Encoding fails only when a value does not match its type, which these typed wrappers rule out.
Bytes call_data(const abi::Function& f, const std::vector<abi::Value>& args) {
  return f.encode_call(args).value();
}

Bytes creation_code(std::string_view bytecode_hex) {
  return eth::from_hex(bytecode_hex).value();
}

Error malformed(std::string_view what, const Error& cause) {
  return Error(ErrorCode::kUpstreamError, "Malformed " + std::string(what) + ": " + cause.message);
}

Error wrong_shape(std::string_view what) {
  return Error(ErrorCode::kUpstreamError, "Malformed " + std::string(what) + ": unexpected field types");
}

Hash32 hash_of(const Bytes& bytes) {
  Hash32 hash{};
  std::copy_n(bytes.begin(), std::min(bytes.size(), hash.size()), hash.begin());
  return hash;
}

}  // namespace

Bytes encode_send_message(std::string_view prompt) {
  return call_data(send_message(), {abi::Value::string(std::string(prompt))});
}

Bytes encode_get_answer(const U256& run_id) {
  return call_data(get_answer(), {abi::Value::uint(run_id)});
}

Bytes encode_add_response(const U256& prompt_id, const U256& callback_id, std::string_view response,
                          std::string_view error) {
  return call_data(add_response(),
                   {abi::Value::uint(prompt_id), abi::Value::uint(callback_id),
                    abi::Value::string(std::string(response)), abi::Value::string(std::string(error))});
}

Bytes encode_is_answered(const U256& prompt_id) {
  return call_data(is_answered(), {abi::Value::uint(prompt_id)});
}

Bytes encode_set_worker(const Address& worker, bool allowed) {
  return call_data(set_worker(), {abi::Value::address(worker), abi::Value::boolean(allowed)});
}

Bytes oracle_creation_code() {
  return creation_code(contracts::llm_oracle().bytecode_hex);
}

Bytes critic_creation_code(const Address& oracle) {
  Bytes code = creation_code(contracts::llm_critic().bytecode_hex);
  const Bytes argument =
      abi::encode({abi::Type::parse("address").value()}, {abi::Value::address(oracle)}).value();
  code.insert(code.end(), argument.begin(), argument.end());
  return code;
}

const Hash32& run_started_topic() {
  static const Hash32 topic = run_started().topic0();
  return topic;
}
const Hash32& answer_received_topic() {
  static const Hash32 topic = answer_received().topic0();
  return topic;
}
const Hash32& prompt_added_topic() {
  static const Hash32 topic = prompt_added().topic0();
  return topic;
}

Result<RunStarted> decode_run_started(const LogEntry& log) {
  Result<std::vector<abi::Value>> values = run_started().decode_log(log.topics, log.data);
  if (!values.ok()) return malformed("RunStarted event", values.error());
  const auto run_id = values->at(0).as_uint();
  const auto requester = values->at(1).as_address();
  const auto prompt_hash = values->at(2).as_bytes();
  const auto prompt_id = values->at(3).as_uint();
  if (!run_id || !requester || !prompt_hash || !prompt_id) return wrong_shape("RunStarted event");
  return RunStarted{*run_id, *requester, hash_of(*prompt_hash), *prompt_id};
}

Result<AnswerReceived> decode_answer_received(const LogEntry& log) {
  Result<std::vector<abi::Value>> values = answer_received().decode_log(log.topics, log.data);
  if (!values.ok()) return malformed("AnswerReceived event", values.error());
  auto run_id = values->at(0).as_uint();
  auto response = values->at(1).as_string();
  auto error = values->at(2).as_string();
  if (!run_id || !response || !error) return wrong_shape("AnswerReceived event");
  return AnswerReceived{*run_id, std::move(*response), std::move(*error), log.block_number};
}

Result<PromptAdded> decode_prompt_added(const LogEntry& log) {
  Result<std::vector<abi::Value>> values = prompt_added().decode_log(log.topics, log.data);
  if (!values.ok()) return malformed("PromptAdded event", values.error());
  auto prompt_id = values->at(0).as_uint();
  auto callback_id = values->at(1).as_uint();
  auto sender = values->at(2).as_address();
  auto prompt = values->at(3).as_string();
  if (!prompt_id || !callback_id || !sender || !prompt) return wrong_shape("PromptAdded event");
  return PromptAdded{*prompt_id, *callback_id, *sender, std::move(*prompt), log.block_number, log.log_index};
}

Result<RunStarted> find_run_started(const Receipt& receipt, const Address& critic) {
  for (const LogEntry& log : receipt.logs) {
    if (log.address == critic && !log.topics.empty() && log.topics[0] == run_started_topic())
      return decode_run_started(log);
  }
  return Error(ErrorCode::kUpstreamError, "Transaction " + eth::to_hex(receipt.transaction_hash) +
                                              " started no critic run (no RunStarted event)");
}

Result<bool> decode_bool_result(const Bytes& data) {
  Result<std::vector<abi::Value>> values = is_answered().decode_output(data);
  if (!values.ok()) return malformed("bool result", values.error());
  const auto value = values->at(0).as_bool();
  if (!value) return wrong_shape("bool result");
  return *value;
}

Result<std::optional<AnswerReceived>> decode_get_answer_result(const U256& run_id, const Bytes& data) {
  Result<std::vector<abi::Value>> values = get_answer().decode_output(data);
  if (!values.ok()) return malformed("getAnswer result", values.error());
  const auto answered = values->at(0).as_bool();
  auto response = values->at(1).as_string();
  auto error = values->at(2).as_string();
  if (!answered || !response || !error) return wrong_shape("getAnswer result");
  if (!*answered) return std::optional<AnswerReceived>();
  return std::optional<AnswerReceived>(AnswerReceived{run_id, std::move(*response), std::move(*error), 0});
}

Hash32 topic_of(const U256& value) {
  return value.to_big_endian();
}

}  // namespace rally::critique::chain
