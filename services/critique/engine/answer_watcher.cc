#include "services/critique/engine/answer_watcher.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <utility>
#include <vector>

namespace rally::critique {

using common::Error;
using common::ErrorCode;
using common::Result;

AnswerWatcher::AnswerWatcher(chain::EthRpcClient& rpc, chain::Address critic,
                             std::chrono::milliseconds poll_interval)
    : rpc_(rpc), critic_(critic), poll_interval_(poll_interval), thread_([this] { run(); }) {}

AnswerWatcher::~AnswerWatcher() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_poller_.notify_all();
  answered_.notify_all();
  thread_.join();
}

Result<chain::AnswerReceived> AnswerWatcher::wait(const chain::U256& run_id, std::uint64_t from_block,
                                                  Clock::time_point deadline, const Abandoned& abandoned) {
  const std::string key = run_id.to_decimal();
  auto waiter = std::make_shared<Waiter>();
  waiter->from_block = from_block;
  std::unique_lock lock(mutex_);
  waiters_[key] = waiter;
  // A request mined before the blocks already searched makes the next poll look back to it.
  if (next_block_ && from_block < *next_block_) next_block_ = from_block;
  wake_poller_.notify_one();
  bool gave_up = false;
  // In slices of the poll interval, so that a caller who went away frees this thread soon.
  while (!waiter->outcome && !stopping_ && !gave_up) {
    const Clock::time_point slice = std::min(deadline, Clock::now() + poll_interval_);
    answered_.wait_until(lock, slice, [&] { return waiter->outcome || stopping_; });
    gave_up = Clock::now() >= deadline || (abandoned && !waiter->outcome && abandoned());
  }
  waiters_.erase(key);
  if (waiter->outcome) return std::move(*waiter->outcome);
  if (gave_up) {
    const bool timed_out = Clock::now() >= deadline;
    return Error(ErrorCode::kApiTimeout,
                 timed_out ? "No answer from the oracle in time for run " + key
                           : "The caller went away before the oracle answered run " + key,
                 {{"run_id", key}});
  }
  return Error(ErrorCode::kServiceUnavailable, "The critique service is stopping");
}

void AnswerWatcher::run() {
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    wake_poller_.wait(lock, [&] { return stopping_ || !waiters_.empty(); });
    if (stopping_) break;
    poll_once(lock);
    wake_poller_.wait_for(lock, poll_interval_, [&] { return stopping_; });
  }
}

void AnswerWatcher::poll_once(std::unique_lock<std::mutex>& lock) {
  std::uint64_t from = next_block_.value_or(UINT64_MAX);
  for (const auto& [key, waiter] : waiters_) from = std::min(from, waiter->from_block);

  lock.unlock();
  Result<std::uint64_t> latest = rpc_.block_number();
  Result<std::vector<chain::LogEntry>> logs = std::vector<chain::LogEntry>{};
  if (latest.ok() && latest.value() >= from) {
    logs = rpc_.logs(chain::LogFilter{.address = critic_,
                                      .event_topic = chain::answer_received_topic(),
                                      .from_block = from,
                                      .to_block = latest.value()});
  }
  lock.lock();

  const common::Error* failure = !latest.ok() ? &latest.error() : !logs.ok() ? &logs.error() : nullptr;
  if (failure != nullptr) {
    // An unreachable node fails the requests waiting on it at once; other errors are retried next poll.
    if (failure->code == ErrorCode::kChainUnavailable) {
      for (auto& [key, waiter] : waiters_) waiter->outcome = *failure;
      answered_.notify_all();
    } else {
      spdlog::warn("critique: polling for answers failed: {}", failure->message);
    }
    return;
  }
  for (const chain::LogEntry& log : logs.value()) {
    Result<chain::AnswerReceived> answer = chain::decode_answer_received(log);
    if (!answer.ok()) {
      spdlog::warn("critique: skipping a malformed AnswerReceived log in block {}: {}", log.block_number,
                   answer.error().message);
      continue;
    }
    const auto found = waiters_.find(answer->run_id.to_decimal());
    if (found != waiters_.end() && !found->second->outcome)
      found->second->outcome = std::move(answer.value());
  }
  next_block_ = latest.value() >= from ? latest.value() + 1 : from;
  answered_.notify_all();
}

}  // namespace rally::critique
