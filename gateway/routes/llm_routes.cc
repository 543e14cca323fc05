#include "gateway/routes/llm_routes.h"

#include <grpcpp/grpcpp.h>

#include <boost/json.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>

#include "gateway/http/envelope.h"
#include "gateway/http/exchange.h"
#include "gateway/http/json_body.h"
#include "gateway/http/router.h"
#include "gateway/routes/llm_payloads.h"
#include "gateway/routes/upstream_relay.h"
#include "gateway/upstream/call_counter.h"
#include "gateway/upstream/upstream_call.h"
#include "rally/v1/llm_proxy.grpc.pb.h"
#include "services/common/grpc_status.h"
#include "services/llm-proxy/wire/openai_wire.h"

namespace rally::gateway::routes {
namespace {

namespace json = boost::json;
using Stub = v1::LlmProxy::Stub;
using relay::CallCounter;
using relay::Clock;
using relay::elapsed_ms;
using relay::ExchangePtr;
using relay::RallyStreamFormat;
using relay::StreamFormat;
using relay::with_overhead;

// /v1 responses name LlamaRally in the one validation message that is not OpenAI's own (n other than 1).
constexpr std::string_view kServerName = "LlamaRally";
// Every chunk of a /v1 stream needs a fingerprint before the llm-proxy says which model served it.
constexpr std::string_view kSystemFingerprint = "fp_llamarally";

http::Response openai_response(const OpenAiError& error) {
  return http::Response::json(error.status, error.body());
}

openai_wire::ResponseIdentity openai_identity(const http::Request& request, std::string_view model) {
  const auto now = std::chrono::system_clock::now().time_since_epoch();
  return {"chatcmpl-" + request.request_id(), std::chrono::duration_cast<std::chrono::seconds>(now).count(),
          std::string(model), std::string(kSystemFingerprint)};
}

void complete(Stub& stub, CallCounter& calls, const ExchangePtr& exchange, Clock::time_point started,
              v1::CompleteRequest request, std::chrono::milliseconds timeout,
              std::function<http::Response(const v1::CompleteResponse& reply, double overhead)> on_success,
              std::function<http::Response(const grpc::Status& status)> on_failure) {
  relay::call_unary<v1::CompleteRequest, v1::CompleteResponse>(
      calls, exchange, started, std::move(request), timeout,
      [&stub](grpc::ClientContext* call_context, const v1::CompleteRequest* call_request,
              v1::CompleteResponse* call_reply, std::function<void(grpc::Status)> done) {
        stub.async()->Complete(call_context, call_request, call_reply, std::move(done));
      },
      [on_success = std::move(on_success), on_failure = std::move(on_failure)](
          const grpc::Status& status, const v1::CompleteResponse& reply, Clock::time_point started_at) {
        if (!status.ok()) return with_overhead(on_failure(status), elapsed_ms(started_at));
        const double overhead = overhead_ms(Clock::now() - started_at, reply.timing().upstream());
        return with_overhead(on_success(reply, overhead), overhead);
      });
}

void stream(Stub& stub, CallCounter& calls, const LlmRouteSettings& settings, const ExchangePtr& exchange,
            Clock::time_point started, v1::CompleteRequest request, std::unique_ptr<StreamFormat> format) {
  relay::relay_stream(
      calls, exchange, started,
      [&stub, request = std::move(request)](grpc::ClientContext* context,
                                            grpc::ClientReadReactor<v1::StreamCompleteResponse>* reactor) {
        stub.async()->StreamComplete(context, &request, reactor);
      },
      std::move(format), relay::StreamSettings{settings.stream_timeout, settings.sse_heartbeat});
}

class OpenAiStreamFormat final : public StreamFormat {
 public:
  OpenAiStreamFormat(openai_wire::ResponseIdentity identity, bool include_usage)
      : identity_(std::move(identity)), include_usage_(include_usage) {}

  std::string opening() const override { return openai_wire::role_event(identity_, include_usage_); }
  std::string delta(std::string_view text) const override {
    return openai_wire::content_event(identity_, text, include_usage_);
  }
  std::string end(const v1::StreamCompleteResponse::End& end, double) const override {
    std::string events =
        openai_wire::finish_event(identity_, finish_reason_name(end.finish_reason()), include_usage_);
    if (include_usage_) events += openai_wire::usage_event(identity_, openai_usage(end.usage()));
    return events + openai_wire::done_event();
  }
  std::string failure_event(const common::Error& error) const override {
    return openai_error_for(error, identity_.model).event();
  }
  http::Response failure_response(const grpc::Status& status) const override {
    return openai_response(openai_error_for(common::from_grpc_status(status), identity_.model));
  }

 private:
  openai_wire::ResponseIdentity identity_;
  bool include_usage_;
};

// ---- Handlers ---------------------------------------------------------------------------------------------

struct Routes {
  std::shared_ptr<Stub> stub;
  LlmRouteSettings settings;
  // Last: destroyed first, waiting for the calls in flight while everything else still exists.
  std::unique_ptr<CallCounter> calls;  // set before any route runs

  // The body of /llm_request or /llm_request_streaming, or nullopt once a 400 has been sent for it.
  static std::optional<SimpleLlmRequest> parse_or_reject(const ExchangePtr& exchange,
                                                         Clock::time_point started) {
    common::Result<SimpleLlmRequest> parsed = parse_simple_request(exchange->request().body());
    if (parsed.ok()) return std::move(parsed).value();
    exchange->respond(with_overhead(http::error_response(parsed.error(), exchange->request().request_id()),
                                    elapsed_ms(started)));
    return std::nullopt;
  }

  void llm_request(const ExchangePtr& exchange) const {
    const Clock::time_point started = Clock::now();
    const std::string& request_id = exchange->request().request_id();
    std::optional<SimpleLlmRequest> parsed = parse_or_reject(exchange, started);
    if (!parsed) return;
    v1::CompleteRequest request = complete_request_for(*parsed);
    complete(
        *stub, *calls, exchange, started, std::move(request), settings.completion_timeout,
        [message = std::move(parsed->message)](const v1::CompleteResponse& reply, double) {
          return http::Response::json(200, simple_response_body(message, reply));
        },
        [request_id](const grpc::Status& status) { return http::error_response(status, request_id); });
  }

  void llm_request_streaming(const ExchangePtr& exchange) const {
    const Clock::time_point started = Clock::now();
    const std::string& request_id = exchange->request().request_id();
    std::optional<SimpleLlmRequest> parsed = parse_or_reject(exchange, started);
    if (!parsed) return;
    stream(*stub, *calls, settings, exchange, started, complete_request_for(*parsed),
           std::make_unique<RallyStreamFormat>(parsed->model, request_id));
  }

  void chat_completions(const ExchangePtr& exchange) const {
    const Clock::time_point started = Clock::now();
    const auto reject = [&](int status, std::string body) {
      exchange->respond(with_overhead(http::Response::json(status, std::move(body)), elapsed_ms(started)));
    };
    // The server already held the body to the configured depth and string limits.
    const common::Result<json::value> body = http::parse_json_body(exchange->request().body());
    if (!body.ok()) {
      return reject(400, openai_wire::error_body(openai_wire::kInvalidJsonMessage, "invalid_request_error",
                                                 std::nullopt, std::nullopt));
    }
    auto chat = openai_wire::parse_chat_request(body.value(), kServerName);
    if (!chat) return reject(400, openai_wire::invalid_request_body(chat.error()));
    auto request = complete_request_for(chat.value());
    if (!request) return reject(400, openai_wire::invalid_request_body(request.error()));

    const std::string model = chat->model;
    openai_wire::ResponseIdentity identity = openai_identity(exchange->request(), model);
    if (chat->stream) {
      return stream(*stub, *calls, settings, exchange, started, std::move(request.value()),
                    std::make_unique<OpenAiStreamFormat>(std::move(identity), chat->include_usage));
    }
    complete(
        *stub, *calls, exchange, started, std::move(request.value()), settings.completion_timeout,
        [identity = std::move(identity)](const v1::CompleteResponse& reply, double) {
          return http::Response::json(
              200,
              openai_wire::completion_body(identity, reply.text(), finish_reason_name(reply.finish_reason()),
                                           openai_usage(reply.usage())));
        },
        [model](const grpc::Status& status) {
          return openai_response(openai_error_for(common::from_grpc_status(status), model));
        });
  }

  // GET /v1/models and GET /v1/models/{model}; `model` is empty for the list.
  void models(const ExchangePtr& exchange, std::string model) const {
    v1::ListModelsRequest request;
    relay::call_unary<v1::ListModelsRequest, v1::ListModelsResponse>(
        *calls, exchange, Clock::now(), request, settings.models_timeout,
        [stub = stub](grpc::ClientContext* context, const v1::ListModelsRequest* list_request,
                      v1::ListModelsResponse* reply, std::function<void(grpc::Status)> done) {
          stub->async()->ListModels(context, list_request, reply, std::move(done));
        },
        [model = std::move(model)](const grpc::Status& status, const v1::ListModelsResponse& reply,
                                   Clock::time_point started) {
          const double overhead = elapsed_ms(started);
          if (!status.ok()) {
            return with_overhead(openai_response(openai_error_for(common::from_grpc_status(status), model)),
                                 overhead);
          }
          const std::vector<openai_wire::ModelEntry> entries = openai_models(reply);
          if (model.empty())
            return with_overhead(http::Response::json(200, openai_wire::models_body(entries)), overhead);
          for (const openai_wire::ModelEntry& entry : entries) {
            if (entry.id == model)
              return with_overhead(http::Response::json(200, openai_wire::model_body(entry)), overhead);
          }
          return with_overhead(
              http::Response::json(
                  404, openai_wire::error_body("The model '" + model + "' does not exist",
                                               "invalid_request_error", "model", "model_not_found")),
              overhead);
        });
  }
};

}  // namespace

void add_llm_routes(http::Router& router, const std::shared_ptr<grpc::Channel>& llm_proxy,
                    const LlmRouteSettings& settings, common::metrics::Registry& registry) {
  auto routes = std::make_shared<Routes>();
  routes->calls = std::make_unique<CallCounter>(upstream::CallMetrics::of(registry, "llm-proxy"));
  routes->stub = v1::LlmProxy::NewStub(llm_proxy);
  routes->settings = settings;
  // Open like the seed's app (and the OpenAI SDKs' own key is honoured when it is a LlamaRally token).
  const edge::RoutePolicy completion{edge::RoutePolicy::Access::kTokenOptional, edge::Scope::kWrite, "llm"};
  const edge::RoutePolicy listing{edge::RoutePolicy::Access::kTokenOptional, edge::Scope::kRead, "read"};
  router.add(
      http::Method::kPost, "/llm_request",
      [routes](const ExchangePtr& exchange) { routes->llm_request(exchange); }, completion);
  router.add(
      http::Method::kPost, "/llm_request_streaming",
      [routes](const ExchangePtr& exchange) { routes->llm_request_streaming(exchange); }, completion);
  // OpenAI's clients read refusals (401, 429, ...) in OpenAI's error format too.
  const auto openai_refusal = [](const common::Error& error, const std::string&) {
    return openai_response(openai_error_for(error, {}));
  };
  edge::RoutePolicy openai_completion = completion;
  openai_completion.refusal = openai_refusal;
  edge::RoutePolicy openai_listing = listing;
  openai_listing.refusal = openai_refusal;
  router.add(
      http::Method::kPost, "/v1/chat/completions",
      [routes](const ExchangePtr& exchange) { routes->chat_completions(exchange); }, openai_completion);
  router.add(
      http::Method::kGet, "/v1/models",
      [routes](const ExchangePtr& exchange) { routes->models(exchange, {}); }, openai_listing);
  router.add(
      http::Method::kGet, "/v1/models/{model}",
      [routes](const ExchangePtr& exchange) {
        routes->models(exchange, std::string(exchange->request().path_param("model").value_or("")));
      },
      openai_listing);
}

}  // namespace rally::gateway::routes
