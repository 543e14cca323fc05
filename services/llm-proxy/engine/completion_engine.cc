#include "services/llm-proxy/engine/completion_engine.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <utility>

#include "services/common/logging.h"
#include "services/common/metrics.h"

namespace rally::llm_proxy {
namespace {

using SteadyClock = std::chrono::steady_clock;
using std::chrono::duration_cast;
using std::chrono::microseconds;
using std::chrono::milliseconds;

double seconds(microseconds duration) {
  return static_cast<double>(duration.count()) / 1e6;
}

std::size_t count_code_points(std::string_view text) {
  return static_cast<std::size_t>(std::count_if(
      text.begin(), text.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }));
}

std::string joined_prompt(const std::vector<ChatTurn>& turns) {
  std::string text;
  for (const ChatTurn& turn : turns) {
    if (!text.empty()) text += '\n';
    text += turn.content;
  }
  return text;
}

// The client-facing error for the failure that ended a request.
common::Error error_for(const CatalogModel& model, const ProviderFailure& failure) {
  std::vector<std::pair<std::string, std::string>> details{
      {"model", model.name}, {"failure", std::string(failure_kind_name(failure.kind))}};
  if (failure.http_status != 0) details.emplace_back("provider_status", std::to_string(failure.http_status));
  if (failure.kind == FailureKind::kTimeout) {
    return common::Error(common::ErrorCode::kApiTimeout,
                         "The provider of " + model.name + " did not answer in time: " + failure.message,
                         std::move(details));
  }
  return common::Error(common::ErrorCode::kUpstreamError,
                       "The provider of " + model.name + " failed: " + failure.message, std::move(details));
}

}  // namespace

struct CompletionEngine::Metrics {
  explicit Metrics(common::metrics::Registry& registry)
      : requests(
            registry.counter("rally_llm_proxy_requests_total",
                             "Completion requests by requested model and outcome (ok, error, cancelled).",
                             {"model", "outcome"})),
        attempts(registry.counter("rally_llm_proxy_attempts_total",
                                  "Upstream attempts by model and result (ok or the failure kind).",
                                  {"model", "result"})),
        time_to_first_token(registry.histogram("rally_llm_proxy_time_to_first_token_seconds",
                                               "From receiving a request to its first text delta.",
                                               {"model"})),
        duration(registry.histogram("rally_llm_proxy_request_duration_seconds",
                                    "From receiving a request to its end, retries included.", {"model"})),
        overhead(registry.histogram("rally_llm_proxy_overhead_seconds",
                                    "Time a request spent in the proxy itself, not waiting on providers.", {},
                                    {0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.05})),
        tokens(registry.counter("rally_llm_proxy_tokens_total",
                                "Tokens by model that answered and direction (prompt, completion).",
                                {"model", "direction"})),
        cost(registry.counter("rally_llm_proxy_cost_usd_total", "Spend in USD by the model that answered.",
                              {"model"})),
        cooldowns(registry.counter("rally_llm_proxy_cooldowns_total",
                                   "Times a model was cooled down after repeated provider failures.",
                                   {"model"})),
        in_flight(registry.gauge("rally_llm_proxy_requests_in_flight", "Completion requests being served.")
                      .labels()) {}

  common::metrics::Family<common::metrics::Counter>& requests;
  common::metrics::Family<common::metrics::Counter>& attempts;
  common::metrics::Family<common::metrics::Histogram>& time_to_first_token;
  common::metrics::Family<common::metrics::Histogram>& duration;
  common::metrics::Family<common::metrics::Histogram>& overhead;
  common::metrics::Family<common::metrics::Counter>& tokens;
  common::metrics::Family<common::metrics::Counter>& cost;
  common::metrics::Family<common::metrics::Counter>& cooldowns;
  common::metrics::Gauge& in_flight;
};

// One request: a sequence of attempts, one at a time, over the candidate models.
class EngineCall final : public CompletionCall, public std::enable_shared_from_this<EngineCall> {
 public:
  EngineCall(CompletionEngine& engine, CompletionInput input, std::vector<const CatalogModel*> candidates,
             std::optional<SteadyClock::time_point> deadline, CompletionObserver observer)
      : engine_(engine),
        input_(std::move(input)),
        candidates_(std::move(candidates)),
        deadline_(deadline),
        observer_(std::move(observer)),
        started_(SteadyClock::now()),
        started_wall_(std::chrono::system_clock::now()) {
    engine_.metrics_->in_flight.inc();
  }

  // A call may outlive the engine (a provider callback still holding it), so only finish_with() may touch
  // the engine once the call has ended.

  void begin() { start_attempt(); }

  void cancel() override {
    ProviderCall running;
    bool abandon_wait = false;
    {
      std::lock_guard lock(mutex_);
      if (done_ || cancelled_) return;
      cancelled_ = true;
      if (waiting_timer_ && engine_.timers_.cancel(*waiting_timer_)) {
        waiting_timer_.reset();
        abandon_wait = true;
      } else {
        running = current_;
      }
    }
    // An attempt in flight ends with on_failure(kCancelled), which finishes the call; a backoff wait has
    // no attempt to do that, so it finishes here.
    if (abandon_wait) {
      finish_failed(common::Error(common::ErrorCode::kUpstreamError, "The request was cancelled"), true);
    } else {
      running.cancel();
    }
  }

 private:
  const CatalogModel& current_model() const { return *candidates_[candidate_index_]; }

  std::optional<milliseconds> time_left() const {
    if (!deadline_) return std::nullopt;
    return duration_cast<milliseconds>(*deadline_ - SteadyClock::now());
  }

  void start_attempt() {
    const CatalogModel* model = nullptr;
    {
      std::lock_guard lock(mutex_);
      waiting_timer_.reset();
      if (cancelled_) {
        model = nullptr;
      } else {
        model = &current_model();
        ++attempts_;
        attempt_started_ = SteadyClock::now();
      }
    }
    if (model == nullptr) {
      finish_failed(common::Error(common::ErrorCode::kUpstreamError, "The request was cancelled"), true);
      return;
    }
    const std::optional<milliseconds> left = time_left();
    if (left && left->count() <= 0) {
      finish_failed(common::Error(common::ErrorCode::kApiTimeout,
                                  "The request's deadline passed before " + model->name + " answered",
                                  {{"model", model->name}}),
                    false);
      return;
    }
    std::string missing_key_env;
    const ProviderEndpoint endpoint = engine_.endpoint_for(*model, left, missing_key_env);
    if (!missing_key_env.empty()) {
      on_failure(ProviderFailure{.kind = FailureKind::kClientError,
                                 .message = "the API key variable " + missing_key_env + " is not set"});
      return;
    }
    ChatCompletion completion = upstream_completion(input_, *model);
    auto self = shared_from_this();
    ProviderCall call = engine_.providers_.start(
        endpoint, completion,
        ProviderHandler{
            .on_delta = [self](std::string_view text) { self->on_delta(text); },
            .on_finish = [self](ProviderFinish finish) { self->on_finish(std::move(finish)); },
            .on_failure = [self](ProviderFailure failure) { self->on_failure(std::move(failure)); }});
    bool cancel_now = false;
    {
      std::lock_guard lock(mutex_);
      current_ = call;
      cancel_now = cancelled_ && !done_;
    }
    if (cancel_now) call.cancel();
  }

  void on_delta(std::string_view text) {
    if (!output_sent_) {
      output_sent_ = true;
      time_to_first_token_ = duration_cast<microseconds>(SteadyClock::now() - started_);
    }
    completion_code_points_ += count_code_points(text);
    if (observer_.on_delta) observer_.on_delta(text);
  }

  void on_finish(ProviderFinish finish) {
    const CatalogModel& model = current_model();
    const SteadyClock::time_point now = SteadyClock::now();
    upstream_ += duration_cast<microseconds>(now - attempt_started_);
    {
      std::lock_guard engine_lock(engine_.mutex_);
      engine_.cooldown_.record_success(model.name);
    }
    engine_.metrics_->attempts.labels({model.name, "ok"}).inc();

    CompletionResult result = base_result();
    result.served_by = model.name;
    result.simulated = model.simulated;
    result.finish = finish.reason;
    if (finish.usage) {
      result.usage = *finish.usage;
    } else {
      // Some compatible servers report no usage; an estimate keeps cost accounting from reading zero.
      result.usage =
          TokenUsage{.prompt_tokens = estimate_prompt_tokens(input_.turns),
                     .completion_tokens = static_cast<std::uint32_t>((completion_code_points_ + 3) / 4)};
      result.usage_estimated = true;
    }
    result.cost_usd =
        completion_cost_usd(model.price, result.usage.prompt_tokens, result.usage.completion_tokens);
    result.tokens_per_second =
        tokens_per_second(result.usage.completion_tokens,
                          input_.stream ? result.time_to_first_token : std::nullopt, result.total);
    finish_with(std::move(result), model.provider);
  }

  void on_failure(ProviderFailure failure) {
    const CatalogModel& model = current_model();
    const SteadyClock::time_point now = SteadyClock::now();
    upstream_ += duration_cast<microseconds>(now - attempt_started_);
    engine_.metrics_->attempts.labels({model.name, std::string(failure_kind_name(failure.kind))}).inc();
    failure.output_sent = failure.output_sent || output_sent_;

    bool cooled_down = false;
    NextStep step = GiveUp{};
    bool cancelled = false;
    {
      std::lock_guard lock(mutex_);
      cancelled = cancelled_;
    }
    {
      std::lock_guard engine_lock(engine_.mutex_);
      cooled_down =
          engine_.cooldown_.record_failure(model.name, failure.kind, std::chrono::system_clock::now());
      if (!cancelled) {
        step = next_step(engine_.settings_.retry, failure.kind, failure.output_sent, failure.retry_after,
                         AttemptState{.attempt_on_model = attempt_on_model_,
                                      .more_models = candidate_index_ + 1 < candidates_.size(),
                                      .time_left = time_left()},
                         engine_.random_);
      }
    }
    if (cooled_down) {
      engine_.metrics_->cooldowns.labels({model.name}).inc();
      spdlog::warn("{} cooled down for {} ms after repeated provider failures", model.name,
                   engine_.settings_.cooldown.cooldown.count());
    }
    if (failure.kind != FailureKind::kCancelled) {
      spdlog::warn("attempt {} on {} failed ({}{}): {}", attempts_, model.name,
                   failure_kind_name(failure.kind),
                   failure.http_status != 0 ? ", HTTP " + std::to_string(failure.http_status) : std::string(),
                   failure.message);
    }

    if (cancelled || failure.kind == FailureKind::kCancelled) {
      finish_failed(common::Error(common::ErrorCode::kUpstreamError, "The request was cancelled"), true);
      return;
    }
    if (const auto* retry = std::get_if<RetrySameModel>(&step)) {
      ++attempt_on_model_;
      upstream_ += duration_cast<microseconds>(retry->delay);
      bool cancelled_meanwhile = false;
      {
        std::lock_guard lock(mutex_);
        cancelled_meanwhile = cancelled_;
        if (!cancelled_meanwhile) {
          waiting_timer_ = engine_.timers_.schedule_after(
              retry->delay, [self = shared_from_this()] { self->start_attempt(); });
        }
      }
      // cancel() arrived after this attempt ended but before the wait began: nothing else will finish.
      if (cancelled_meanwhile) {
        finish_failed(common::Error(common::ErrorCode::kUpstreamError, "The request was cancelled"), true);
      }
      return;
    }
    if (std::holds_alternative<TryNextModel>(step)) {
      ++candidate_index_;
      attempt_on_model_ = 1;
      start_attempt();
      return;
    }
    finish_failed(error_for(model, failure), false);
  }

  CompletionResult base_result() const {
    CompletionResult result;
    result.model = input_.model;
    result.time_to_first_token = time_to_first_token_;
    result.total = duration_cast<microseconds>(SteadyClock::now() - started_);
    result.upstream = std::min(upstream_, result.total);
    result.attempts = attempts_;
    result.output_sent = output_sent_;
    return result;
  }

  void finish_failed(common::Error error, bool cancelled) {
    CompletionResult result = base_result();
    result.error = std::move(error);
    result.cancelled = cancelled;
    // Tokens a failed stream produced were still generated (and billed) upstream.
    if (output_sent_) {
      result.usage =
          TokenUsage{.prompt_tokens = estimate_prompt_tokens(input_.turns),
                     .completion_tokens = static_cast<std::uint32_t>((completion_code_points_ + 3) / 4)};
      result.usage_estimated = true;
      result.cost_usd = completion_cost_usd(current_model().price, result.usage.prompt_tokens,
                                            result.usage.completion_tokens);
    }
    finish_with(std::move(result), current_model().provider);
  }

  void finish_with(CompletionResult result, ProviderKind provider) {
    {
      std::lock_guard lock(mutex_);
      if (done_) return;
      done_ = true;
    }
    engine_.metrics_->in_flight.dec();
    account(result, provider);
    if (observer_.on_done) observer_.on_done(result);
    observer_ = {};  // releases whatever the observer captured (the rpc reactor) right away
  }

  void account(const CompletionResult& result, ProviderKind provider) {
    auto& metrics = *engine_.metrics_;
    const UsageOutcome outcome = result.cancelled ? UsageOutcome::kCancelled
                                                  : (result.error ? UsageOutcome::kError : UsageOutcome::kOk);
    metrics.requests.labels({input_.model, std::string(usage_outcome_name(outcome))}).inc();
    metrics.duration.labels({input_.model}).observe(seconds(result.total));
    metrics.overhead.labels().observe(seconds(result.total - result.upstream));
    if (result.time_to_first_token) {
      metrics.time_to_first_token.labels({input_.model}).observe(seconds(*result.time_to_first_token));
    }
    const std::string& charged_model = result.served_by.empty() ? current_model().name : result.served_by;
    metrics.tokens.labels({charged_model, "prompt"}).inc(result.usage.prompt_tokens);
    metrics.tokens.labels({charged_model, "completion"}).inc(result.usage.completion_tokens);
    metrics.cost.labels({charged_model}).inc(result.cost_usd);

    UsageRecord record;
    record.request_id = input_.request_id;
    record.caller = input_.caller;
    record.model = input_.model;
    record.served_by = result.served_by;
    record.provider = std::string(provider_kind_name(provider));
    record.streamed = input_.stream;
    record.simulated = result.served_by.empty() ? current_model().simulated : result.simulated;
    record.outcome = outcome;
    if (result.error) {
      const auto failure = std::find_if(result.error->details.begin(), result.error->details.end(),
                                        [](const auto& detail) { return detail.first == "failure"; });
      record.error_kind = result.cancelled ? "cancelled"
                          : failure != result.error->details.end()
                              ? failure->second
                              : std::string(common::info(result.error->code).rest_code);
      record.error_message = result.error->message;
    }
    record.prompt_tokens = result.usage.prompt_tokens;
    record.completion_tokens = result.usage.completion_tokens;
    record.usage_estimated = result.usage_estimated;
    record.cost_usd = result.cost_usd;
    record.time_to_first_token = result.time_to_first_token;
    record.total_duration = result.total;
    record.tokens_per_second = result.tokens_per_second;
    record.attempts = result.attempts;
    record.started_at = started_wall_;
    if (engine_.settings_.record_prompts) record.prompt_text = joined_prompt(input_.turns);
    engine_.usage_.record(std::move(record));
  }

  CompletionEngine& engine_;
  const CompletionInput input_;
  const std::vector<const CatalogModel*> candidates_;
  const std::optional<SteadyClock::time_point> deadline_;
  CompletionObserver observer_;
  const SteadyClock::time_point started_;
  const std::chrono::system_clock::time_point started_wall_;

  // Shared with cancel(), which may run on any thread.
  std::mutex mutex_;
  bool cancelled_ = false;
  bool done_ = false;
  ProviderCall current_;
  std::optional<TimerQueue::TaskId> waiting_timer_;

  // Touched only by the attempt sequence, which runs one step at a time (provider callbacks, then the
  // timer thread or the next attempt's start), never concurrently.
  std::size_t candidate_index_ = 0;
  std::uint32_t attempt_on_model_ = 1;
  std::uint32_t attempts_ = 0;
  SteadyClock::time_point attempt_started_;
  microseconds upstream_{0};
  bool output_sent_ = false;
  std::optional<microseconds> time_to_first_token_;
  std::size_t completion_code_points_ = 0;
};

CompletionEngine::CompletionEngine(Catalog catalog, ProviderClient& providers, UsageRecorder& usage,
                                   EngineSettings settings, Environment env,
                                   common::metrics::Registry& registry)
    : catalog_(std::move(catalog)),
      providers_(providers),
      usage_(usage),
      settings_(std::move(settings)),
      env_(std::move(env)),
      metrics_(std::make_unique<Metrics>(registry)),
      cooldown_(settings_.cooldown),
      random_(std::random_device{}()) {}

CompletionEngine::~CompletionEngine() = default;

ModelAvailability CompletionEngine::availability(const std::string& model) const {
  std::lock_guard lock(mutex_);
  return ModelAvailability{.cooldown_until =
                               cooldown_.cooled_down_until(model, std::chrono::system_clock::now())};
}

ProviderEndpoint CompletionEngine::endpoint_for(const CatalogModel& model,
                                                std::optional<milliseconds> time_left,
                                                std::string& missing_key_env) const {
  ProviderEndpoint endpoint;
  endpoint.kind = model.provider;
  endpoint.base_url = model.base_url;
  if (const auto it = settings_.timeouts.find(model.provider); it != settings_.timeouts.end()) {
    endpoint.timeouts = it->second;
  }
  if (time_left) {
    // The caller will not wait longer than its deadline, so neither does the attempt.
    const milliseconds bound = std::max(*time_left, milliseconds(1));
    endpoint.timeouts.total =
        endpoint.timeouts.total.count() == 0 ? bound : std::min(endpoint.timeouts.total, bound);
  }
  if (model.simulated) {
    endpoint.api_key = settings_.simulator_api_key;
  } else if (!model.api_key_env.empty()) {
    const std::optional<std::string> key = env_ ? env_(model.api_key_env) : std::nullopt;
    if (!key || key->empty()) {
      missing_key_env = model.api_key_env;
    } else {
      endpoint.api_key = *key;
    }
  }
  return endpoint;
}

common::Result<std::shared_ptr<CompletionCall>> CompletionEngine::start(
    CompletionInput input, std::optional<SteadyClock::time_point> deadline, CompletionObserver observer) {
  const common::Result<const CatalogModel*> primary = validate_completion(catalog_, input, settings_.limits);
  if (!primary.ok()) return primary.error();
  std::vector<const CatalogModel*> candidates;
  std::optional<std::chrono::system_clock::time_point> cooled_until;
  {
    std::lock_guard lock(mutex_);
    const auto now = std::chrono::system_clock::now();
    candidates = candidate_models(
        catalog_, *primary.value(), input.allow_fallbacks,
        [&](const CatalogModel& model) { return cooldown_.cooled_down_until(model.name, now).has_value(); });
    cooled_until = cooldown_.cooled_down_until(primary.value()->name, now);
  }
  if (candidates.empty()) {
    const auto wait =
        cooled_until ? duration_cast<std::chrono::seconds>(*cooled_until - std::chrono::system_clock::now())
                     : std::chrono::seconds(0);
    metrics_->requests.labels({input.model, "error"}).inc();
    return common::Error(common::ErrorCode::kServiceUnavailable,
                         input.model +
                             " is cooling down after repeated provider failures and has no available "
                             "fallback; retry in " +
                             std::to_string(std::max<std::int64_t>(wait.count(), 1)) + " s",
                         {{"model", input.model},
                          {"retry_after_seconds", std::to_string(std::max<std::int64_t>(wait.count(), 1))}});
  }
  auto call = std::make_shared<EngineCall>(*this, std::move(input), std::move(candidates), deadline,
                                           std::move(observer));
  call->begin();
  return std::shared_ptr<CompletionCall>(call);
}

}  // namespace rally::llm_proxy
