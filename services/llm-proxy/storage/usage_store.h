// Usage accounting: one UsageRecord per completion request, and per-model statistics over a time window
// for the scoring service. The interfaces keep PostgreSQL (pg_usage_store.h) out of the engine and the rpc
// layer, and let their tests record into memory.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "services/common/errors.h"

namespace rally::llm_proxy {

// How a request ended. A cancelled request (the caller went away) is neither a success nor a model's
// failure, so statistics keep it out of the error rate.
enum class UsageOutcome { kOk, kError, kCancelled };

// "ok", "error", "cancelled": the spelling stored in PostgreSQL and used as a metric label.
constexpr std::string_view usage_outcome_name(UsageOutcome outcome) {
  switch (outcome) {
    case UsageOutcome::kOk:
      return "ok";
    case UsageOutcome::kError:
      return "error";
    case UsageOutcome::kCancelled:
      return "cancelled";
  }
  return "error";
}

// One completion request as it ended, successful or not.
struct UsageRecord {
  std::string request_id;
  std::string caller;     // who asked (the calling service or API token name)
  std::string model;      // the public model name that was requested
  std::string served_by;  // the model that answered (differs after a fallback); empty when none did
  std::string provider;   // "openai", "anthropic", "openai-compatible" (of served_by, else of the last try)
  bool streamed = false;
  bool simulated = false;  // answered by the LLM simulator
  UsageOutcome outcome = UsageOutcome::kOk;
  std::string error_kind;  // e.g. "rate_limited", "timeout"; empty when ok
  std::string error_message;
  std::uint32_t prompt_tokens = 0;
  std::uint32_t completion_tokens = 0;
  bool usage_estimated = false;  // the provider reported no usage; the counts were estimated
  double cost_usd = 0.0;
  std::optional<std::chrono::microseconds> time_to_first_token;  // none when no text arrived
  std::chrono::microseconds total_duration{0};
  std::optional<double> tokens_per_second;
  std::uint32_t attempts = 0;  // upstream attempts, including retries and fallbacks
  std::chrono::system_clock::time_point started_at;
  std::optional<std::string> prompt_text;  // only when the service is configured to keep prompts

  bool operator==(const UsageRecord&) const = default;
};

// Where the engine hands finished requests. Accounting must never slow down or fail a request, so
// record() neither blocks on I/O nor throws: an implementation that cannot keep up drops records and
// counts them.
class UsageRecorder {
 public:
  virtual ~UsageRecorder() = default;
  virtual void record(UsageRecord record) = 0;
};

// Statistics of one requested model (UsageRecord::model) over a time window.
struct ModelUsageStats {
  std::string model;
  std::uint64_t requests = 0;   // every record
  std::uint64_t errors = 0;     // outcome kError
  std::uint64_t cancelled = 0;  // outcome kCancelled
  // errors / (requests - cancelled): cancelled requests say nothing about the model. 0 when no request
  // ran to an end.
  double error_rate = 0.0;
  // Over streamed, successful records that have a time to first token; none when there are no such records.
  std::optional<std::chrono::microseconds> p50_time_to_first_token;
  std::optional<std::chrono::microseconds> p99_time_to_first_token;
  // Over successful records that have tokens_per_second; none when there are none.
  std::optional<double> p50_tokens_per_second;
  // Sums over every record, failed ones included (a failed stream may have used tokens).
  std::uint64_t prompt_tokens = 0;
  std::uint64_t completion_tokens = 0;
  double cost_usd = 0.0;

  bool operator==(const ModelUsageStats&) const = default;
};

class UsageStatsSource {
 public:
  virtual ~UsageStatsSource() = default;
  // Statistics of the records with from <= started_at < to, one entry per model that has records in the
  // window, ordered by model name (byte order). `models` limits the answer to those names; empty means
  // every model. Percentiles interpolate between neighbouring values (PostgreSQL's percentile_cont).
  // Fails with kDatabaseError when the store cannot be read, kInvalidRequest when to < from.
  virtual common::Result<std::vector<ModelUsageStats>> stats(const std::vector<std::string>& models,
                                                             std::chrono::system_clock::time_point from,
                                                             std::chrono::system_clock::time_point to) = 0;
};

}  // namespace rally::llm_proxy
