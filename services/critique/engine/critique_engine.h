// The requester's half of a critique: sends LlmCritic.sendMessage(prompt) as a signed transaction, reads
// the run id from the receipt's RunStarted event, waits for that run's AnswerReceived event and reads the
// score out of it. Every critique, answered or not, is recorded in PostgreSQL (without the prompt).
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "services/common/errors.h"
#include "services/critique/chain/eth_rpc_client.h"
#include "services/critique/chain/transaction_sender.h"
#include "services/critique/engine/answer_watcher.h"
#include "services/critique/storage/critique_store.h"

namespace rally::critique {

struct Critique {
  double score = 0;
  std::string description;
  std::string tx_hash;
  std::string run_id;  // decimal uint256
  std::uint64_t request_block = 0;
  std::uint64_t answer_block = 0;
  std::chrono::microseconds latency{0};
  // Time not spent in the LLM: sending, mining, the worker noticing the prompt and the answer's mining.
  std::chrono::microseconds chain_time{0};
  bool simulated = false;
  bool clamped = false;
};

struct CritiqueEngineSettings {
  chain::Address critic;
  // The largest prompt accepted, in UTF-8 bytes.
  std::size_t max_prompt_bytes = 64 * 1024;
};

class CritiqueEngine {
 public:
  using Clock = std::chrono::steady_clock;

  // Everything must outlive the engine.
  CritiqueEngine(chain::TransactionSender& requester, AnswerWatcher& answers, CritiqueStore& store,
                 CritiqueEngineSettings settings);

  // Blocks until the answer or `deadline`. Errors: kInvalidRequest (empty or oversized prompt),
  // kChainUnavailable, kApiTimeout (no receipt or no answer in time), kUpstreamError (a reverted
  // transaction, an oracle error answer, an answer without a usable score). `abandoned` (optional) tells
  // when the caller went away: the wait for the answer then ends early.
  common::Result<Critique> criticize(std::string_view prompt, Clock::time_point deadline,
                                     const AnswerWatcher::Abandoned& abandoned = {});

 private:
  chain::TransactionSender& requester_;
  AnswerWatcher& answers_;
  CritiqueStore& store_;
  const CritiqueEngineSettings settings_;
};

}  // namespace rally::critique
