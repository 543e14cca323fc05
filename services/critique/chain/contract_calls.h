// The calls and events of the two contracts (services/critique/contracts/), in C++ types: calldata to
// send and logs read back. Pure: encoding and decoding only.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "services/common/errors.h"
#include "services/critique/chain/eth_rpc_client.h"

namespace rally::critique::chain {

// LlmCritic.sendMessage(string): selector 0x469c8110, as in the original app.
Bytes encode_send_message(std::string_view prompt);
// LlmCritic.getAnswer(uint256).
Bytes encode_get_answer(const U256& run_id);
// LlmOracle.addResponse(uint256,uint256,string,string).
Bytes encode_add_response(const U256& prompt_id, const U256& callback_id, std::string_view response,
                          std::string_view error);
// LlmOracle.isAnswered(uint256).
Bytes encode_is_answered(const U256& prompt_id);
// LlmOracle.setWorker(address,bool).
Bytes encode_set_worker(const Address& worker, bool allowed);
// Creation code of LlmCritic with its constructor argument (the oracle's address) appended.
Bytes critic_creation_code(const Address& oracle);
// Creation code of LlmOracle (no constructor arguments).
Bytes oracle_creation_code();

// RunStarted(uint256 indexed runId, address indexed requester, bytes32 promptHash, uint256 promptId).
struct RunStarted {
  U256 run_id;
  Address requester;
  Hash32 prompt_hash{};
  U256 prompt_id;
};
// AnswerReceived(uint256 indexed runId, string response, string error).
struct AnswerReceived {
  U256 run_id;
  std::string response;
  std::string error;
  std::uint64_t block_number = 0;
};
// PromptAdded(uint256 indexed promptId, uint256 indexed callbackId, address sender, string prompt).
struct PromptAdded {
  U256 prompt_id;
  U256 callback_id;
  Address sender;
  std::string prompt;
  std::uint64_t block_number = 0;
  std::uint64_t log_index = 0;
};

const Hash32& run_started_topic();
const Hash32& answer_received_topic();
const Hash32& prompt_added_topic();

// Decoders of one log; an error for a log of another event or with malformed data (chain data is untrusted).
common::Result<RunStarted> decode_run_started(const LogEntry& log);
common::Result<AnswerReceived> decode_answer_received(const LogEntry& log);
common::Result<PromptAdded> decode_prompt_added(const LogEntry& log);

// The RunStarted event among a receipt's logs emitted by `critic`.
common::Result<RunStarted> find_run_started(const Receipt& receipt, const Address& critic);

// isAnswered's return value.
common::Result<bool> decode_bool_result(const Bytes& data);
// getAnswer's (bool answered, string response, string error).
common::Result<std::optional<AnswerReceived>> decode_get_answer_result(const U256& run_id, const Bytes& data);

// A uint256 as an event topic (topic1 filters).
Hash32 topic_of(const U256& value);

}  // namespace rally::critique::chain
