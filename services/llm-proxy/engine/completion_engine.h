// Serves completions: resolves the model in the catalog, makes upstream attempts through a ProviderClient,
// retries before the first byte with backoff, falls back to other models, cools down failing models,
// cancels upstream work when the caller goes away, and accounts for every request (usage rows, metrics).
// The decisions themselves are pure (domain/completion_plan.h, domain/cooldown.h); this class does the
// I/O around them.
//
//   auto call = engine.start(input, deadline, CompletionObserver{
//       .on_delta = [](std::string_view text) { ... },       // in order, on HTTP client threads
//       .on_done = [](const CompletionResult& result) { ... }});  // exactly once, last
//   if (!call.ok()) { /* invalid request: no callback runs */ }
//   call.value()->cancel();  // the client went away: the upstream connection closes at once
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <string_view>

#include "services/common/errors.h"
#include "services/llm-proxy/domain/catalog.h"
#include "services/llm-proxy/domain/completion_plan.h"
#include "services/llm-proxy/domain/cooldown.h"
#include "services/llm-proxy/domain/retry_policy.h"
#include "services/llm-proxy/engine/timer_queue.h"
#include "services/llm-proxy/http/http_client.h"
#include "services/llm-proxy/provider/provider_client.h"
#include "services/llm-proxy/storage/usage_store.h"

namespace rally::common::metrics {
class Registry;
}

namespace rally::llm_proxy {

struct EngineSettings {
  RetryPolicy retry;
  CooldownSettings cooldown;
  CompletionLimits limits;
  // Per provider kind; a model's attempt also never outlives the caller's deadline.
  std::map<ProviderKind, HttpTimeouts> timeouts;
  // Keep the prompt text in usage rows (off: prompts are users' data).
  bool record_prompts = false;
  // Sent to the LLM simulator for simulated models, which have no provider key.
  std::string simulator_api_key = "rally-simulator";
};

struct CompletionResult {
  // nullopt on success. Invalid requests never get here (start() rejects them).
  std::optional<common::Error> error;
  bool cancelled = false;  // the caller cancelled; `error` is set too
  std::string model;       // requested
  std::string served_by;   // answered (a fallback when it differs); empty when no model answered
  bool simulated = false;
  FinishReason finish = FinishReason::kStop;
  TokenUsage usage;
  bool usage_estimated = false;
  double cost_usd = 0.0;
  std::optional<std::chrono::microseconds> time_to_first_token;
  std::chrono::microseconds total{0};
  std::chrono::microseconds upstream{0};  // attempts plus backoff waits
  std::optional<double> tokens_per_second;
  std::uint32_t attempts = 0;
  bool output_sent = false;  // a delta reached the observer before the end
};

struct CompletionObserver {
  std::function<void(std::string_view text)> on_delta;
  std::function<void(const CompletionResult& result)> on_done;
};

// One completion in flight; the engine keeps it alive until on_done has run.
class CompletionCall {
 public:
  virtual ~CompletionCall() = default;
  // Closes the upstream connection (or abandons a backoff wait) at once; on_done follows with
  // result.cancelled unless the call had already ended. Any thread, any number of times.
  virtual void cancel() = 0;
};

// What ListModels shows of a model besides its catalog entry.
struct ModelAvailability {
  std::optional<std::chrono::system_clock::time_point> cooldown_until;
};

class CompletionEngine {
 public:
  using Environment = std::function<std::optional<std::string>(const std::string& name)>;

  // `env` resolves API key variables (read once per attempt, so a rotated key applies without restart).
  // `providers`, `usage` and `registry` must outlive the engine.
  CompletionEngine(Catalog catalog, ProviderClient& providers, UsageRecorder& usage, EngineSettings settings,
                   Environment env, common::metrics::Registry& registry);
  ~CompletionEngine();
  CompletionEngine(const CompletionEngine&) = delete;
  CompletionEngine& operator=(const CompletionEngine&) = delete;

  const Catalog& catalog() const { return catalog_; }
  ModelAvailability availability(const std::string& model) const;

  // Validates `input` (INVALID_REQUEST, no callbacks) or starts serving it; `deadline` bounds the whole
  // request, retries included.
  common::Result<std::shared_ptr<CompletionCall>> start(
      CompletionInput input, std::optional<std::chrono::steady_clock::time_point> deadline,
      CompletionObserver observer);

 private:
  friend class EngineCall;
  struct Metrics;

  ProviderEndpoint endpoint_for(const CatalogModel& model, std::optional<std::chrono::milliseconds> time_left,
                                std::string& missing_key_env) const;

  Catalog catalog_;
  ProviderClient& providers_;
  UsageRecorder& usage_;
  EngineSettings settings_;
  Environment env_;
  std::unique_ptr<Metrics> metrics_;

  mutable std::mutex mutex_;  // guards cooldown_ and random_
  CooldownTracker cooldown_;
  std::mt19937_64 random_;

  // Last: destroyed first, so no backoff task runs into a half-destroyed engine.
  TimerQueue timers_;
};

}  // namespace rally::llm_proxy
