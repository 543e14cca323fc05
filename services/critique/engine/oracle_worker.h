// The off-chain half of the oracle: follows the oracle contract's PromptAdded events, asks the LLM to
// critique each prompt and submits the answer with addResponse, as a whitelisted worker.
//
// Exactly once, across restarts and replicas:
// - The next block to read is kept in PostgreSQL (critique.oracle_cursor) and moves only past blocks whose
//   every prompt was handled, so a worker that stops between a PromptAdded and its answer reads that
//   block again when it starts.
// - Before asking the LLM the worker asks the contract whether the prompt was answered (isAnswered), and
//   the contract itself refuses a second answer ("already answered"), which the worker takes as done. A
//   prompt is therefore answered once on chain even when two workers race.
// - With a lease (a PostgreSQL advisory lock per oracle in the service), one worker among the replicas
//   answers and the others stand by, taking over when the holder's session ends. This saves the LLM call
//   and the gas of answers the contract would refuse; the guarantees above make a takeover race harmless.
// - A failing LLM (or an answer without a usable score) is submitted as an error answer, so the requester
//   is never left waiting; only the chain being unreachable leaves a prompt for the next poll.
//
// The answer written on chain is canonical JSON: {"score": 7.5, "description": "...", "model": "gpt-4o",
// "simulated": false, "llm_ms": 812}; the critic contract's response() keeps the original's
// {score, description} shape readable by older clients.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>

#include "services/common/errors.h"
#include "services/common/pg_advisory_lock.h"
#include "services/critique/chain/contract_calls.h"
#include "services/critique/chain/eth_rpc_client.h"
#include "services/critique/chain/transaction_sender.h"
#include "services/critique/engine/critic_llm.h"
#include "services/critique/storage/critique_store.h"

namespace rally::critique {

struct OracleWorkerSettings {
  chain::Address oracle;
  std::uint64_t chain_id = 696969;
  // Where a worker with no stored cursor starts reading.
  std::uint64_t start_block = 0;
  std::chrono::milliseconds poll_interval{100};
  // Most blocks read by one eth_getLogs.
  std::uint64_t max_block_range = 1000;
  // Prompts handled at once (each waits on the LLM, then on its transaction).
  std::size_t concurrency = 16;
  std::chrono::milliseconds llm_timeout{60'000};
  std::chrono::milliseconds transaction_timeout{30'000};
  // After a failed poll (chain or database down), the wait before the next; also how often a standing-by
  // worker tries to take the lease.
  std::chrono::milliseconds retry_delay{1000};
};

class OracleWorker {
 public:
  // Everything must outlive the worker. The sender signs with a key the oracle whitelisted. Without a
  // lease (nullptr) the worker always answers.
  OracleWorker(chain::EthRpcClient& rpc, chain::TransactionSender& sender, CriticLlm& llm,
               CritiqueStore& store, OracleWorkerSettings settings, common::ExclusiveLease* lease = nullptr);
  ~OracleWorker();  // stops and joins
  OracleWorker(const OracleWorker&) = delete;
  OracleWorker& operator=(const OracleWorker&) = delete;

  void start();
  // Finishes the prompts in hand (their transactions included), then returns.
  void stop();

  // One pass: reads the blocks after the cursor and handles their prompts. Returns the number of prompts
  // handled, or the error that stopped the pass (the cursor then stays where it was). For tests.
  common::Result<std::size_t> poll_once();

 private:
  enum class Handled { kDone, kRetry };
  Handled handle(const chain::PromptAdded& prompt);
  void run();

  chain::EthRpcClient& rpc_;
  chain::TransactionSender& sender_;
  CriticLlm& llm_;
  CritiqueStore& store_;
  const OracleWorkerSettings settings_;
  common::ExclusiveLease* const lease_;
  const std::string oracle_key_;  // lower-case hex: the cursor's key

  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace rally::critique
