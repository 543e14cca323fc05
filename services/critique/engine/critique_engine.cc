#include "services/critique/engine/critique_engine.h"

#include <spdlog/spdlog.h>

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <utility>

#include "services/critique/chain/contract_calls.h"
#include "services/critique/domain/critique_answer.h"
#include "services/critique/eth/keccak.h"

namespace rally::critique {
namespace {

using common::Error;
using common::ErrorCode;
using common::Result;
using std::chrono::duration_cast;
using std::chrono::microseconds;

// The worker's extra fields in an answer (oracle_worker.h): who answered and how long the LLM took.
struct AnswerProvenance {
  bool simulated = false;
  std::chrono::milliseconds llm_time{0};
};

AnswerProvenance provenance_of(std::string_view response) {
  AnswerProvenance provenance;
  boost::system::error_code ec;
  const boost::json::value value = boost::json::parse(response, ec);
  if (ec || !value.is_object()) return provenance;
  const boost::json::object& object = value.get_object();
  if (const auto* simulated = object.if_contains("simulated"); simulated && simulated->is_bool())
    provenance.simulated = simulated->get_bool();
  if (const auto* llm_ms = object.if_contains("llm_ms");
      llm_ms && llm_ms->is_int64() && llm_ms->get_int64() >= 0)
    provenance.llm_time = std::chrono::milliseconds(llm_ms->get_int64());
  return provenance;
}

double milliseconds_of(microseconds time) {
  return static_cast<double>(time.count()) / 1000.0;
}

}  // namespace

CritiqueEngine::CritiqueEngine(chain::TransactionSender& requester, AnswerWatcher& answers,
                               CritiqueStore& store, CritiqueEngineSettings settings)
    : requester_(requester), answers_(answers), store_(store), settings_(std::move(settings)) {}

Result<Critique> CritiqueEngine::criticize(std::string_view prompt, Clock::time_point deadline,
                                           const AnswerWatcher::Abandoned& abandoned) {
  if (prompt.find_first_not_of(" \t\r\n") == std::string_view::npos) {
    return Error(ErrorCode::kInvalidRequest, "Prompt is required", {{"field", "prompt"}});
  }
  if (prompt.size() > settings_.max_prompt_bytes) {
    return Error(ErrorCode::kInvalidRequest,
                 "Prompt is too long: " + std::to_string(prompt.size()) + " bytes, at most " +
                     std::to_string(settings_.max_prompt_bytes),
                 {{"field", "prompt"}});
  }
  const Clock::time_point started = Clock::now();
  CritiqueRecord record{.prompt_hash = eth::to_hex(eth::keccak256(prompt)),
                        .prompt_bytes = static_cast<std::uint32_t>(prompt.size()),
                        .outcome = "failed"};
  Critique critique;
  // Records the outcome (a failure to record is logged, never hides the critique's own result).
  const auto finish = [&](Result<Critique> result) {
    const microseconds latency = duration_cast<microseconds>(Clock::now() - started);
    record.latency_ms = milliseconds_of(latency);
    record.chain_ms = milliseconds_of(result.ok() ? result->chain_time : latency);
    if (!result.ok()) record.error = result.error().message;
    if (Result<std::int64_t> stored = store_.record_critique(record); !stored.ok()) {
      spdlog::warn("critique: not recorded: {}", stored.error().message);
    }
    return result;
  };

  const chain::Bytes call = chain::encode_send_message(prompt);
  Result<chain::Receipt> receipt = requester_.transact(settings_.critic, call, deadline);
  if (!receipt.ok()) return finish(receipt.error());
  critique.tx_hash = eth::to_hex(receipt->transaction_hash);
  critique.request_block = receipt->block_number;
  record.tx_hash = critique.tx_hash;
  record.request_block = critique.request_block;

  Result<chain::RunStarted> run = chain::find_run_started(receipt.value(), settings_.critic);
  if (!run.ok()) return finish(run.error());
  critique.run_id = run->run_id.to_decimal();
  record.run_id = critique.run_id;

  Result<chain::AnswerReceived> answer =
      answers_.wait(run->run_id, receipt->block_number, deadline, abandoned);
  if (!answer.ok()) return finish(answer.error());
  critique.answer_block = answer->block_number;
  record.answer_block = critique.answer_block;
  if (!answer->error.empty()) {
    record.outcome = "oracle_error";
    return finish(Error(ErrorCode::kUpstreamError,
                        "The oracle could not critique the prompt: " + answer->error,
                        {{"run_id", critique.run_id}, {"tx_hash", critique.tx_hash}}));
  }
  Result<CritiqueAnswer> parsed = parse_critique_answer(answer->response);
  if (!parsed.ok()) {
    record.outcome = "bad_answer";
    return finish(parsed.error());
  }

  const AnswerProvenance provenance = provenance_of(answer->response);
  critique.score = parsed->score;
  critique.description = parsed->description;
  critique.clamped = parsed->clamped;
  critique.simulated = provenance.simulated;
  critique.latency = duration_cast<microseconds>(Clock::now() - started);
  critique.chain_time =
      std::max(microseconds(0), critique.latency - duration_cast<microseconds>(provenance.llm_time));
  record.outcome = "answered";
  record.score = critique.score;
  record.description = critique.description;
  record.simulated = critique.simulated;
  return finish(std::move(critique));
}

}  // namespace rally::critique
