#include "services/llm-proxy/rpc/llm_proxy_service.h"

#include <google/protobuf/util/time_util.h>

#include <atomic>
#include <mutex>
#include <optional>
#include <string>

#include "services/common/blocking_executor.h"
#include "services/common/grpc_status.h"
#include "services/common/logging.h"
#include "services/common/rpc_observer.h"
#include "services/llm-proxy/engine/completion_engine.h"
#include "services/llm-proxy/storage/usage_store.h"

namespace rally::llm_proxy {
namespace {

using google::protobuf::util::TimeUtil;
using std::chrono::duration_cast;
using std::chrono::microseconds;

v1::ProviderKind to_proto(ProviderKind kind) {
  switch (kind) {
    case ProviderKind::kOpenAi:
      return v1::PROVIDER_KIND_OPENAI;
    case ProviderKind::kAnthropic:
      return v1::PROVIDER_KIND_ANTHROPIC;
    case ProviderKind::kOpenAiCompatible:
      return v1::PROVIDER_KIND_OPENAI_COMPATIBLE;
  }
  return v1::PROVIDER_KIND_UNSPECIFIED;
}

v1::FinishReason to_proto(FinishReason reason) {
  switch (reason) {
    case FinishReason::kStop:
      return v1::FINISH_REASON_STOP;
    case FinishReason::kLength:
      return v1::FINISH_REASON_LENGTH;
    case FinishReason::kContentFilter:
      return v1::FINISH_REASON_CONTENT_FILTER;
    case FinishReason::kToolCalls:
      return v1::FINISH_REASON_TOOL_CALLS;
  }
  return v1::FINISH_REASON_UNSPECIFIED;
}

google::protobuf::Timestamp to_timestamp(std::chrono::system_clock::time_point time) {
  return TimeUtil::MicrosecondsToTimestamp(duration_cast<microseconds>(time.time_since_epoch()).count());
}

common::Result<CompletionInput> to_input(const v1::CompleteRequest& request, std::string request_id,
                                         bool stream) {
  CompletionInput input;
  input.model = request.model();
  input.turns.reserve(static_cast<std::size_t>(request.messages_size()));
  for (int i = 0; i < request.messages_size(); ++i) {
    const v1::ChatMessage& message = request.messages(i);
    ChatTurn turn;
    switch (message.role()) {
      case v1::CHAT_ROLE_SYSTEM:
        turn.role = ChatRole::kSystem;
        break;
      case v1::CHAT_ROLE_USER:
        turn.role = ChatRole::kUser;
        break;
      case v1::CHAT_ROLE_ASSISTANT:
        turn.role = ChatRole::kAssistant;
        break;
      default:
        return common::Error(common::ErrorCode::kInvalidRequest,
                             "messages[" + std::to_string(i) + "].role must be system, user or assistant",
                             {{"field", "messages[" + std::to_string(i) + "].role"}});
    }
    turn.content = message.content();
    input.turns.push_back(std::move(turn));
  }
  if (request.has_temperature()) input.temperature = request.temperature();
  if (request.has_top_p()) input.top_p = request.top_p();
  if (request.has_max_tokens()) input.max_tokens = request.max_tokens();
  input.stop.assign(request.stop().begin(), request.stop().end());
  input.json_mode = request.response_format() == v1::RESPONSE_FORMAT_JSON_OBJECT;
  input.stream = stream;
  input.allow_fallbacks = !request.disable_fallbacks();
  input.caller = request.caller().empty() ? "unknown" : request.caller();
  input.request_id = std::move(request_id);
  return input;
}

// The caller's gRPC deadline on the steady clock, nullopt when it set none.
std::optional<std::chrono::steady_clock::time_point> deadline_of(const grpc::CallbackServerContext& context) {
  const std::chrono::system_clock::time_point deadline = context.deadline();
  if (deadline == std::chrono::system_clock::time_point::max()) return std::nullopt;
  const auto left = deadline - std::chrono::system_clock::now();
  // Absurdly far deadlines (what some clients send for "none") would overflow the steady clock.
  if (left > std::chrono::hours(24 * 365)) return std::nullopt;
  return std::chrono::steady_clock::now() + duration_cast<std::chrono::steady_clock::duration>(left);
}

void fill_usage(const CompletionResult& result, v1::Usage& usage) {
  usage.set_prompt_tokens(result.usage.prompt_tokens);
  usage.set_completion_tokens(result.usage.completion_tokens);
  usage.set_total_tokens(result.usage.prompt_tokens + result.usage.completion_tokens);
  usage.set_estimated(result.usage_estimated);
  usage.set_cost_usd(result.cost_usd);
}

void fill_timing(const CompletionResult& result, v1::Timing& timing) {
  if (result.time_to_first_token) {
    *timing.mutable_time_to_first_token() =
        TimeUtil::MicrosecondsToDuration(result.time_to_first_token->count());
  }
  *timing.mutable_total() = TimeUtil::MicrosecondsToDuration(result.total.count());
  *timing.mutable_upstream() = TimeUtil::MicrosecondsToDuration(result.upstream.count());
  timing.set_tokens_per_second(result.tokens_per_second.value_or(0.0));
  timing.set_attempts(result.attempts);
}

grpc::Status status_of(const CompletionResult& result) {
  if (result.cancelled) return grpc::Status(grpc::StatusCode::CANCELLED, "The request was cancelled");
  return common::to_grpc_status(*result.error);
}

// What both completion reactors share: starting the engine call, passing the RPC's cancellation on to it
// whenever that comes (even before the engine call exists), and deciding when the reactor may be deleted:
// once gRPC is done with it (OnDone) and its own start-up code has returned, since an engine that finishes
// at once (every attempt refused synchronously) must not free the reactor under the code that started it.
class RpcCompletion {
 public:
  // Starts serving `input`; returns the status to finish the RPC with at once when it cannot start.
  std::optional<grpc::Status> start(CompletionEngine& engine, const grpc::CallbackServerContext& context,
                                    common::Result<CompletionInput> input, CompletionObserver observer) {
    if (!input.ok()) return common::to_grpc_status(input.error());
    common::Result<std::shared_ptr<CompletionCall>> call =
        engine.start(std::move(input).value(), deadline_of(context), std::move(observer));
    if (!call.ok()) return common::to_grpc_status(call.error());
    std::lock_guard lock(mutex_);
    call_ = std::move(call).value();
    if (cancelled_) call_->cancel();
    return std::nullopt;
  }

  // The RPC was cancelled or its client stopped reading: the upstream request is closed.
  void cancel() {
    std::shared_ptr<CompletionCall> call;
    {
      std::lock_guard lock(mutex_);
      cancelled_ = true;
      call = call_;
    }
    if (call) call->cancel();
  }

  // Called once by the reactor's start-up code and once by OnDone; true for the last of the two.
  bool release() { return references_.fetch_sub(1, std::memory_order_acq_rel) == 1; }

 private:
  std::atomic<int> references_{2};
  std::mutex mutex_;
  std::shared_ptr<CompletionCall> call_;
  bool cancelled_ = false;
};

class CompleteReactor final : public grpc::ServerUnaryReactor {
 public:
  CompleteReactor(grpc::CallbackServerContext* context, v1::CompleteResponse* response)
      : context_(context), response_(response) {}

  void start(CompletionEngine& engine, const v1::CompleteRequest& request) {
    const std::string request_id = common::request_id_of(*context_);
    common::ScopedRequestId scoped(request_id);
    response_->set_id(request_id);
    const std::optional<grpc::Status> refused = completion_.start(
        engine, *context_, to_input(request, request_id, /*stream=*/false),
        CompletionObserver{.on_delta = [this](std::string_view text) { text_.append(text); },
                           .on_done = [this](const CompletionResult& result) { on_done(result); }});
    if (refused) Finish(*refused);
    if (completion_.release()) delete this;
  }

  void OnCancel() override { completion_.cancel(); }

  void OnDone() override {
    if (completion_.release()) delete this;
  }

 private:
  void on_done(const CompletionResult& result) {
    if (result.error) {
      Finish(status_of(result));
      return;
    }
    response_->set_model(result.model);
    response_->set_served_by(result.served_by);
    response_->set_text(std::move(text_));
    response_->set_finish_reason(to_proto(result.finish));
    fill_usage(result, *response_->mutable_usage());
    fill_timing(result, *response_->mutable_timing());
    response_->set_simulated(result.simulated);
    Finish(grpc::Status::OK);
  }

  grpc::CallbackServerContext* context_;
  v1::CompleteResponse* response_;
  std::string text_;  // engine callbacks only, which run one at a time
  RpcCompletion completion_;
};

class StreamCompleteReactor final : public grpc::ServerWriteReactor<v1::StreamCompleteResponse> {
 public:
  explicit StreamCompleteReactor(grpc::CallbackServerContext* context) : context_(context) {}

  void start(CompletionEngine& engine, const v1::CompleteRequest& request) {
    request_id_ = common::request_id_of(*context_);
    common::ScopedRequestId scoped(request_id_);
    const std::optional<grpc::Status> refused = completion_.start(
        engine, *context_, to_input(request, request_id_, /*stream=*/true),
        CompletionObserver{.on_delta = [this](std::string_view text) { on_delta(text); },
                           .on_done = [this](const CompletionResult& result) { on_done(result); }});
    if (refused) Finish(*refused);
    if (completion_.release()) delete this;
  }

  void OnWriteDone(bool ok) override {
    {
      std::lock_guard lock(mutex_);
      write_in_flight_ = false;
      if (!ok) {
        broken_ = true;
        pending_text_.clear();
      }
    }
    // The client is gone: stop the upstream; the engine's on_done then finishes the RPC.
    if (!ok) completion_.cancel();
    write_or_finish();
  }

  void OnCancel() override { completion_.cancel(); }

  void OnDone() override {
    if (completion_.release()) delete this;
  }

 private:
  void on_delta(std::string_view text) {
    {
      std::lock_guard lock(mutex_);
      if (broken_) return;
      pending_text_.append(text);
    }
    write_or_finish();
  }

  void on_done(const CompletionResult& result) {
    {
      std::lock_guard lock(mutex_);
      result_ = result;
    }
    write_or_finish();
  }

  // Starts the next write when none is in flight: pending text first, then the end of the stream.
  void write_or_finish() {
    enum class Action { kNone, kWriteDelta, kWriteEndAndFinish, kFinishWithError } action = Action::kNone;
    grpc::Status status;
    {
      std::lock_guard lock(mutex_);
      if (write_in_flight_ || finishing_) return;
      if (!pending_text_.empty() && !broken_) {
        out_.Clear();
        out_.mutable_delta()->set_text(std::move(pending_text_));
        pending_text_.clear();
        write_in_flight_ = true;
        action = Action::kWriteDelta;
      } else if (result_) {
        finishing_ = true;
        if (result_->error || broken_) {
          status = result_->error ? status_of(*result_)
                                  : grpc::Status(grpc::StatusCode::CANCELLED, "The client went away");
          action = Action::kFinishWithError;
        } else {
          fill_end(*result_);
          action = Action::kWriteEndAndFinish;
        }
      }
    }
    // Outside the lock: once Finish is called, OnDone may free this reactor on another thread.
    switch (action) {
      case Action::kNone:
        break;
      case Action::kWriteDelta:
        StartWrite(&out_);
        break;
      case Action::kWriteEndAndFinish:
        StartWriteAndFinish(&out_, grpc::WriteOptions(), grpc::Status::OK);
        break;
      case Action::kFinishWithError:
        Finish(status);
        break;
    }
  }

  void fill_end(const CompletionResult& result) {
    out_.Clear();
    v1::StreamCompleteResponse::End& end = *out_.mutable_end();
    end.set_id(request_id_);
    end.set_model(result.model);
    end.set_served_by(result.served_by);
    end.set_finish_reason(to_proto(result.finish));
    fill_usage(result, *end.mutable_usage());
    fill_timing(result, *end.mutable_timing());
    end.set_simulated(result.simulated);
  }

  grpc::CallbackServerContext* context_;
  std::string request_id_;
  RpcCompletion completion_;
  std::mutex mutex_;
  bool write_in_flight_ = false;
  bool broken_ = false;     // a write failed: the client is gone
  bool finishing_ = false;  // Finish (or the final write) has been started
  std::string pending_text_;
  std::optional<CompletionResult> result_;
  v1::StreamCompleteResponse out_;  // the message being written; touched only when no write is in flight
};

}  // namespace

LlmProxyService::LlmProxyService(CompletionEngine& engine, UsageStatsSource& stats,
                                 common::BlockingExecutor& stats_executor, LlmProxyRpcSettings settings)
    : engine_(engine), stats_(stats), stats_executor_(stats_executor), settings_(settings) {}

grpc::ServerUnaryReactor* LlmProxyService::ListModels(grpc::CallbackServerContext* context,
                                                      const v1::ListModelsRequest* request,
                                                      v1::ListModelsResponse* response) {
  for (const CatalogModel& model : engine_.catalog().models()) {
    if (!model.enabled && !request->include_disabled()) continue;
    v1::Model& out = *response->add_models();
    out.set_name(model.name);
    out.set_display_name(model.display_name);
    out.set_provider(to_proto(model.provider));
    out.set_upstream_model(model.upstream_model);
    out.set_base_url(model.base_url);
    out.mutable_price()->set_usd_per_1k_tokens(model.price.usd_per_1k_tokens);
    out.mutable_price()->set_input_usd_per_1m_tokens(model.price.input_usd_per_1m_tokens);
    out.mutable_price()->set_output_usd_per_1m_tokens(model.price.output_usd_per_1m_tokens);
    out.set_enabled(model.enabled);
    out.set_sampling_weight(model.sampling_weight);
    for (const std::string& fallback : model.fallbacks) out.add_fallbacks(fallback);
    out.set_simulated(model.simulated);
    if (const auto until = engine_.availability(model.name).cooldown_until) {
      *out.mutable_cooldown_until() = to_timestamp(*until);
    }
  }
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  reactor->Finish(grpc::Status::OK);
  return reactor;
}

grpc::ServerUnaryReactor* LlmProxyService::Complete(grpc::CallbackServerContext* context,
                                                    const v1::CompleteRequest* request,
                                                    v1::CompleteResponse* response) {
  auto* reactor = new CompleteReactor(context, response);
  reactor->start(engine_, *request);
  return reactor;
}

grpc::ServerWriteReactor<v1::StreamCompleteResponse>* LlmProxyService::StreamComplete(
    grpc::CallbackServerContext* context, const v1::CompleteRequest* request) {
  auto* reactor = new StreamCompleteReactor(context);
  reactor->start(engine_, *request);
  return reactor;
}

grpc::ServerUnaryReactor* LlmProxyService::GetUsageStats(grpc::CallbackServerContext* context,
                                                         const v1::GetUsageStatsRequest* request,
                                                         v1::GetUsageStatsResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  microseconds window = duration_cast<microseconds>(settings_.default_stats_window);
  if (request->has_window()) {
    window = microseconds(TimeUtil::DurationToMicroseconds(request->window()));
    if (window.count() <= 0) {
      reactor->Finish(common::to_grpc_status(common::Error(
          common::ErrorCode::kInvalidRequest, "window must be positive", {{"field", "window"}})));
      return reactor;
    }
  }
  const auto to = std::chrono::system_clock::now();
  const auto from = to - window;
  std::vector<std::string> models(request->models().begin(), request->models().end());
  const bool queued = stats_executor_.post([this, reactor, response, from, to, models = std::move(models)] {
    common::Result<std::vector<ModelUsageStats>> stats = stats_.stats(models, from, to);
    if (!stats.ok()) {
      reactor->Finish(common::to_grpc_status(stats.error()));
      return;
    }
    *response->mutable_window_start() = to_timestamp(from);
    *response->mutable_window_end() = to_timestamp(to);
    for (const ModelUsageStats& model : stats.value()) {
      v1::ModelUsageStats& out = *response->add_models();
      out.set_model(model.model);
      out.set_requests(model.requests);
      out.set_errors(model.errors);
      out.set_cancelled(model.cancelled);
      out.set_error_rate(model.error_rate);
      if (model.p50_time_to_first_token) {
        *out.mutable_p50_time_to_first_token() =
            TimeUtil::MicrosecondsToDuration(model.p50_time_to_first_token->count());
      }
      if (model.p99_time_to_first_token) {
        *out.mutable_p99_time_to_first_token() =
            TimeUtil::MicrosecondsToDuration(model.p99_time_to_first_token->count());
      }
      out.set_p50_tokens_per_second(model.p50_tokens_per_second.value_or(0.0));
      out.set_prompt_tokens(model.prompt_tokens);
      out.set_completion_tokens(model.completion_tokens);
      out.set_cost_usd(model.cost_usd);
    }
    reactor->Finish(grpc::Status::OK);
  });
  if (!queued) {
    reactor->Finish(grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED, "Too many statistics queries queued"));
  }
  return reactor;
}

}  // namespace rally::llm_proxy
