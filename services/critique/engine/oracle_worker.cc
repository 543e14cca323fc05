#include "services/critique/engine/oracle_worker.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <boost/json/object.hpp>
#include <future>
#include <optional>
#include <utility>
#include <vector>

#include "services/common/json_text.h"
#include "services/critique/domain/critic_instruction.h"
#include "services/critique/domain/critique_answer.h"

namespace rally::critique {
namespace {

using common::Error;
using common::ErrorCode;
using common::Result;
using Clock = std::chrono::steady_clock;

bool is_transient(const Error& error) {
  return error.code == ErrorCode::kChainUnavailable || error.code == ErrorCode::kApiTimeout ||
         error.code == ErrorCode::kDatabaseError;
}

// What goes on chain for a usable LLM reply: canonical JSON, or the reason it is unusable.
struct OnChainAnswer {
  std::string response;
  std::string error;
};

OnChainAnswer answer_for(const Result<CriticReply>& reply) {
  if (!reply.ok()) return {"", "The critic model failed: " + reply.error().message};
  Result<CritiqueAnswer> parsed = parse_critique_answer(reply->text);
  if (!parsed.ok()) return {"", parsed.error().message};
  boost::json::object answer{{"score", parsed->score},
                             {"description", parsed->description},
                             {"model", reply->model},
                             {"simulated", reply->simulated},
                             {"llm_ms", reply->latency.count()}};
  return {common::json_text(answer), ""};
}

bool already_answered(const Error& error) {
  return error.message.find("already answered") != std::string::npos;
}

}  // namespace

OracleWorker::OracleWorker(chain::EthRpcClient& rpc, chain::TransactionSender& sender, CriticLlm& llm,
                           CritiqueStore& store, OracleWorkerSettings settings, common::ExclusiveLease* lease)
    : rpc_(rpc),
      sender_(sender),
      llm_(llm),
      store_(store),
      settings_(std::move(settings)),
      lease_(lease),
      oracle_key_(settings_.oracle.lower_hex()) {}

OracleWorker::~OracleWorker() {
  stop();
}

void OracleWorker::start() {
  std::lock_guard lock(mutex_);
  if (thread_.joinable()) return;
  stopping_ = false;
  thread_ = std::thread([this] { run(); });
}

void OracleWorker::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void OracleWorker::run() {
  spdlog::info("critique: oracle worker {} follows oracle {}", sender_.address().checksummed(),
               settings_.oracle.checksummed());
  std::optional<bool> leading;  // logged at the first pass and at every change
  while (true) {
    const bool lead = lease_ == nullptr || lease_->try_hold() == common::LeaseState::kHeld;
    if (leading != lead && lease_ != nullptr) {
      if (lead) {
        spdlog::info("critique: oracle worker leads: this replica answers the prompts");
      } else {
        spdlog::info("critique: oracle worker stands by: another replica holds the lease");
      }
    }
    leading = lead;
    Result<std::size_t> pass = lead ? poll_once() : Result<std::size_t>(std::size_t{0});
    if (!pass.ok()) spdlog::warn("critique: oracle worker pass failed, retrying: {}", pass.error().message);
    std::unique_lock lock(mutex_);
    const auto delay = pass.ok() && lead ? settings_.poll_interval : settings_.retry_delay;
    if (wake_.wait_for(lock, delay, [&] { return stopping_; })) break;
  }
  // Hands over at once rather than when the process exits.
  if (lease_ != nullptr) lease_->release();
}

Result<std::size_t> OracleWorker::poll_once() {
  Result<std::optional<std::uint64_t>> cursor = store_.oracle_cursor(oracle_key_);
  if (!cursor.ok()) return cursor.error();
  std::uint64_t from = cursor->value_or(settings_.start_block);
  Result<std::uint64_t> latest = rpc_.block_number();
  if (!latest.ok()) return latest.error();
  if (from > latest.value() + 1) {
    spdlog::warn(
        "critique: the chain is at block {} but the oracle worker had read up to {}: the chain was "
        "reset, reading again from block {}",
        latest.value(), from - 1, settings_.start_block);
    from = std::min(settings_.start_block, latest.value());
    if (Result<bool> rewound = store_.rewind_oracle_cursor(oracle_key_, from); !rewound.ok())
      return rewound.error();
  }
  if (latest.value() < from) return std::size_t{0};
  const std::uint64_t to = std::min(latest.value(), from + settings_.max_block_range - 1);

  Result<std::vector<chain::LogEntry>> logs =
      rpc_.logs(chain::LogFilter{.address = settings_.oracle,
                                 .event_topic = chain::prompt_added_topic(),
                                 .from_block = from,
                                 .to_block = to});
  if (!logs.ok()) return logs.error();
  std::vector<chain::PromptAdded> prompts;
  for (const chain::LogEntry& log : logs.value()) {
    Result<chain::PromptAdded> prompt = chain::decode_prompt_added(log);
    if (prompt.ok()) {
      prompts.push_back(std::move(prompt.value()));
    } else {
      // Nobody can answer a prompt whose event cannot be read; skipping it is all there is to do.
      spdlog::error("critique: skipping a malformed PromptAdded log in block {}: {}", log.block_number,
                    prompt.error().message);
    }
  }

  // In waves of `concurrency`: each prompt waits on the LLM and then on its own transaction.
  bool all_done = true;
  for (std::size_t first = 0; first < prompts.size(); first += settings_.concurrency) {
    const std::size_t last = std::min(prompts.size(), first + settings_.concurrency);
    std::vector<std::future<Handled>> wave;
    for (std::size_t i = first; i < last; ++i) {
      wave.push_back(std::async(std::launch::async, [this, &prompt = prompts[i]] { return handle(prompt); }));
    }
    for (auto& handled : wave) all_done = handled.get() == Handled::kDone && all_done;
  }
  if (!all_done) {
    return Error(ErrorCode::kChainUnavailable, "some prompts in blocks " + std::to_string(from) + "-" +
                                                   std::to_string(to) + " wait for a retry");
  }
  Result<bool> advanced = store_.advance_oracle_cursor(oracle_key_, settings_.chain_id, to + 1);
  if (!advanced.ok()) return advanced.error();
  return prompts.size();
}

OracleWorker::Handled OracleWorker::handle(const chain::PromptAdded& prompt) {
  OracleAnswerRecord record{.oracle_address = oracle_key_,
                            .prompt_id = prompt.prompt_id.to_decimal(),
                            .callback_id = prompt.callback_id.to_decimal(),
                            .prompt_block = prompt.block_number,
                            .outcome = "answered"};
  const auto finish = [&](Handled handled) {
    if (Result<bool> stored = store_.record_oracle_answer(record); !stored.ok()) {
      spdlog::warn("critique: oracle answer for prompt {} not recorded: {}", record.prompt_id,
                   stored.error().message);
    }
    return handled;
  };

  Result<chain::Bytes> answered = rpc_.call(
      chain::CallRequest{.to = settings_.oracle, .data = chain::encode_is_answered(prompt.prompt_id)});
  if (!answered.ok()) return Handled::kRetry;
  Result<bool> is_answered = chain::decode_bool_result(answered.value());
  if (is_answered.ok() && is_answered.value()) {
    record.outcome = "already_answered";
    return finish(Handled::kDone);
  }

  const Result<CriticReply> reply = llm_.ask(critic_instruction(), prompt.prompt, settings_.llm_timeout);
  const OnChainAnswer answer = answer_for(reply);
  if (reply.ok()) {
    record.model = reply->model;
    record.simulated = reply->simulated;
    record.llm_ms = static_cast<double>(reply->latency.count());
  }
  if (!answer.error.empty()) {
    record.outcome = "error_answered";
    record.error = answer.error;
  }

  const chain::Bytes call =
      chain::encode_add_response(prompt.prompt_id, prompt.callback_id, answer.response, answer.error);
  Result<chain::Receipt> receipt =
      sender_.transact(settings_.oracle, call, Clock::now() + settings_.transaction_timeout);
  if (!receipt.ok()) {
    if (already_answered(receipt.error())) {
      record.outcome = "already_answered";
      return finish(Handled::kDone);
    }
    record.outcome = "failed";
    record.error = receipt.error().message;
    spdlog::warn("critique: answering prompt {} failed: {}", record.prompt_id, receipt.error().message);
    // A transient failure leaves the prompt for the next pass; a refusal would repeat forever.
    return finish(is_transient(receipt.error()) ? Handled::kRetry : Handled::kDone);
  }
  record.tx_hash = eth::to_hex(receipt->transaction_hash);
  return finish(Handled::kDone);
}

}  // namespace rally::critique
