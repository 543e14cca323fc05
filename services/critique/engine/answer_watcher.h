// Waits for the critic contract's AnswerReceived events on behalf of many requests at once: one thread
// polls eth_getLogs for the contract's answers and hands each to the request waiting for its run id, so ten
// concurrent critiques cost one query per poll, not ten.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "services/common/errors.h"
#include "services/critique/chain/contract_calls.h"
#include "services/critique/chain/eth_rpc_client.h"

namespace rally::critique {

class AnswerWatcher {
 public:
  using Clock = std::chrono::steady_clock;

  // Polls every `poll_interval` while anyone waits (and not at all otherwise).
  AnswerWatcher(chain::EthRpcClient& rpc, chain::Address critic, std::chrono::milliseconds poll_interval);
  // Wakes every waiter with kServiceUnavailable and joins the thread.
  ~AnswerWatcher();
  AnswerWatcher(const AnswerWatcher&) = delete;
  AnswerWatcher& operator=(const AnswerWatcher&) = delete;

  // True once nobody wants the answer any more (the caller went away); checked every poll interval.
  using Abandoned = std::function<bool()>;

  // Blocks until the answer to `run_id` is seen in a block at or after `from_block` (the block of the
  // request's transaction), or `deadline` passes (kApiTimeout), or `abandoned` says so (kApiTimeout too:
  // the answer is no longer awaited), or the node becomes unreachable (kChainUnavailable). Any thread; many
  // at once.
  common::Result<chain::AnswerReceived> wait(const chain::U256& run_id, std::uint64_t from_block,
                                             Clock::time_point deadline, const Abandoned& abandoned = {});

 private:
  struct Waiter {
    std::uint64_t from_block = 0;
    std::optional<common::Result<chain::AnswerReceived>> outcome;
  };

  void run();
  // One eth_getLogs over the blocks not yet searched for some waiter; delivers what it finds.
  void poll_once(std::unique_lock<std::mutex>& lock);

  chain::EthRpcClient& rpc_;
  const chain::Address critic_;
  const std::chrono::milliseconds poll_interval_;

  std::mutex mutex_;
  std::condition_variable wake_poller_;
  std::condition_variable answered_;
  std::map<std::string, std::shared_ptr<Waiter>> waiters_;  // by run id, decimal
  // Every waiter's answer is at or after this block or already delivered: the next poll starts here.
  std::optional<std::uint64_t> next_block_;
  bool stopping_ = false;
  std::thread thread_;  // last: starts once everything else is built
};

}  // namespace rally::critique
