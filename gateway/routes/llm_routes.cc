#include "gateway/routes/llm_routes.h"

#include <grpcpp/grpcpp.h>

#include <boost/json.hpp>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>

#include "gateway/http/envelope.h"
#include "gateway/http/exchange.h"
#include "gateway/http/router.h"
#include "gateway/routes/llm_payloads.h"
#include "gateway/upstream/upstream_call.h"
#include "rally/v1/llm_proxy.grpc.pb.h"
#include "services/common/grpc_status.h"
#include "services/llm-proxy/wire/openai_wire.h"

namespace rally::gateway::routes {
namespace {

namespace json = boost::json;
using Clock = std::chrono::steady_clock;
using ExchangePtr = std::shared_ptr<http::Exchange>;
using Stub = v1::LlmProxy::Stub;

constexpr std::string_view kOverheadHeader = "X-Rally-Overhead-Ms";
constexpr std::string_view kEventStreamType = "text/event-stream; charset=utf-8";
// /v1 responses name LlamaRally in the one validation message that is not OpenAI's own (n other than 1).
constexpr std::string_view kServerName = "LlamaRally";
// Every chunk of a /v1 stream needs a fingerprint before the llm-proxy says which model served it.
constexpr std::string_view kSystemFingerprint = "fp_llamarally";

double elapsed_ms(Clock::time_point started) {
  return std::chrono::duration<double, std::milli>(Clock::now() - started).count();
}

http::Response with_overhead(http::Response response, double overhead_ms) {
  response.headers.set(std::string(kOverheadHeader), format_milliseconds(overhead_ms));
  return response;
}

http::Response openai_response(const OpenAiError& error) {
  return http::Response::json(error.status, error.body());
}

openai_wire::ResponseIdentity openai_identity(const http::Request& request, std::string_view model) {
  const auto now = std::chrono::system_clock::now().time_since_epoch();
  return {"chatcmpl-" + request.request_id(), std::chrono::duration_cast<std::chrono::seconds>(now).count(),
          std::string(model), std::string(kSystemFingerprint)};
}

// ---- Calls in flight --------------------------------------------------------------------------------------

// Counts the gRPC calls in flight. Their callbacks run on gRPC's threads, so the routes (and with them the
// gateway and the process) wait for the last one before they go away; deadlines bound the wait.
class CallCounter {
 public:
  CallCounter() = default;
  CallCounter(const CallCounter&) = delete;
  CallCounter& operator=(const CallCounter&) = delete;
  ~CallCounter() {
    std::unique_lock lock(mutex_);
    idle_.wait(lock, [this] { return count_ == 0; });
  }

  // Held by a call for its whole life: the first member, so it is released last.
  class Guard {
   public:
    explicit Guard(CallCounter& counter) : counter_(counter) {
      std::lock_guard lock(counter_.mutex_);
      ++counter_.count_;
    }
    ~Guard() {
      // Notified under the lock: the counter may be destroyed as soon as the lock is released.
      std::lock_guard lock(counter_.mutex_);
      --counter_.count_;
      counter_.idle_.notify_all();
    }
    Guard(const Guard&) = delete;
    Guard& operator=(const Guard&) = delete;

   private:
    CallCounter& counter_;
  };

 private:
  std::mutex mutex_;
  std::condition_variable idle_;
  int count_ = 0;
};

// ---- Unary calls ------------------------------------------------------------------------------------------

// One unary call on behalf of an exchange: its request id and deadline, cancelled when the client goes
// away. `render` builds the answer from the status and the reply on the gRPC callback thread.
template <typename Request, typename Reply>
struct UnaryCall {
  explicit UnaryCall(CallCounter& calls) : guard(calls) {}

  CallCounter::Guard guard;
  ExchangePtr exchange;
  Clock::time_point started;
  grpc::ClientContext context;
  Request request;
  Reply reply;
};

template <typename Request, typename Reply, typename Invoke, typename Render>
void call_unary(CallCounter& calls, const ExchangePtr& exchange, Clock::time_point started, Request request,
                std::chrono::milliseconds timeout, Invoke invoke, Render render) {
  auto call = std::make_shared<UnaryCall<Request, Reply>>(calls);
  call->exchange = exchange;
  call->started = started;
  call->request = std::move(request);
  upstream::prepare_call(call->context, exchange->request().request_id(), timeout);
  exchange->on_cancel([weak = std::weak_ptr(call)] {
    if (auto alive = weak.lock()) alive->context.TryCancel();
  });
  invoke(&call->context, &call->request, &call->reply,
         [call, render = std::move(render)](const grpc::Status& status) {
           call->exchange->respond(render(status, call->reply, call->started));
         });
}

void complete(Stub& stub, CallCounter& calls, const ExchangePtr& exchange, Clock::time_point started,
              v1::CompleteRequest request, std::chrono::milliseconds timeout,
              std::function<http::Response(const v1::CompleteResponse& reply, double overhead)> on_success,
              std::function<http::Response(const grpc::Status& status)> on_failure) {
  call_unary<v1::CompleteRequest, v1::CompleteResponse>(
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

// ---- Streams ----------------------------------------------------------------------------------------------

// The bytes of one kind of stream: the seed's SSE events or OpenAI's chunks.
class StreamFormat {
 public:
  virtual ~StreamFormat() = default;
  // What goes out before the first content (OpenAI's role chunk).
  virtual std::string opening() const { return {}; }
  virtual std::string delta(std::string_view text) const = 0;
  virtual std::string end(const v1::StreamCompleteResponse::End& end, double overhead_ms) const = 0;
  // A failure once the headers are out: an event, after which the stream ends.
  virtual std::string failure_event(const common::Error& error) const = 0;
  // A failure before the headers went out: a whole response.
  virtual http::Response failure_response(const grpc::Status& status) const = 0;
};

class RallyStreamFormat final : public StreamFormat {
 public:
  RallyStreamFormat(std::string model, std::string request_id)
      : model_(std::move(model)), request_id_(std::move(request_id)) {}

  std::string delta(std::string_view text) const override { return sse_delta_event(text, model_); }
  std::string end(const v1::StreamCompleteResponse::End& end, double overhead_ms) const override {
    return sse_done_event(end, overhead_ms);
  }
  std::string failure_event(const common::Error& error) const override { return sse_error_event(error); }
  http::Response failure_response(const grpc::Status& status) const override {
    return http::error_response(status, request_id_);
  }

 private:
  std::string model_;
  std::string request_id_;
};

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

// One StreamComplete call relayed to the client. One read is in flight at a time, and the next starts only
// once the previous event reached the socket, so a slow client slows the llm-proxy (and the provider
// behind it) instead of growing a buffer. The headers go out with the first event, or with the first
// heartbeat when the first token is slow; a failure before that is answered as a plain response.
class StreamCall final : public grpc::ClientReadReactor<v1::StreamCompleteResponse>,
                         public std::enable_shared_from_this<StreamCall> {
 public:
  StreamCall(CallCounter& calls, ExchangePtr exchange, Clock::time_point started, v1::CompleteRequest request,
             std::unique_ptr<StreamFormat> format)
      : guard_(calls),
        exchange_(std::move(exchange)),
        started_(started),
        request_(std::move(request)),
        format_(std::move(format)) {}

  void start(Stub& stub, const LlmRouteSettings& settings) {
    self_ = shared_from_this();  // released in OnDone
    heartbeat_ = settings.sse_heartbeat;
    upstream::prepare_call(context_, exchange_->request().request_id(), settings.stream_timeout);
    exchange_->on_cancel([weak = weak_from_this()] {
      if (auto call = weak.lock()) call->context_.TryCancel();
    });
    stub.async()->StreamComplete(&context_, &request_, this);
    // Reads are started from write callbacks, outside the reactions: the hold keeps OnDone back until the
    // last of them (RemoveHold when reading ends).
    AddHold();
    StartRead(&event_);
    StartCall();
    schedule_heartbeat();
  }

  void OnReadDone(bool ok) override {
    if (!ok) {
      RemoveHold();  // the stream ended; OnDone has the status
      return;
    }
    std::string chunk;
    {
      std::lock_guard lock(mutex_);
      if (event_.has_delta()) {
        first_delta_seen_ = true;
        chunk = open_locked() + format_->delta(event_.delta().text());
      } else if (event_.has_end()) {
        end_seen_ = true;
        const v1::StreamCompleteResponse::End& end = event_.end();
        chunk =
            open_locked() + format_->end(end, overhead_ms(Clock::now() - started_, end.timing().upstream()));
      }
    }
    if (chunk.empty()) {
      StartRead(&event_);  // an event this gateway does not know: skip it
      return;
    }
    // A chunk write() refuses drops the callback at once, ending the reads through the continuation.
    auto next = std::make_shared<Continuation>(shared_from_this());
    exchange_->write(std::move(chunk), [next](bool written) { next->run(written); });
  }

  void OnDone(const grpc::Status& status) override {
    {
      std::lock_guard lock(mutex_);
      done_ = true;
      // An OK status without the End event breaks the contract: report it rather than end silently.
      const grpc::Status outcome = status.ok() && !end_seen_ ? missing_end() : status;
      if (!headers_sent_) {
        // Nothing was sent (the End event sends the headers): a plain error response still fits.
        exchange_->respond(with_overhead(format_->failure_response(outcome), elapsed_ms(started_)));
      } else {
        if (!outcome.ok()) exchange_->write(format_->failure_event(common::from_grpc_status(outcome)));
        exchange_->finish();
      }
    }
    self_.reset();  // may destroy this call: nothing may follow
  }

 private:
  // What follows a relayed event: the next read once the event is written, or the end of reading when the
  // client is gone. Also when the write callback is dropped unrun (a refused chunk, or a connection whose
  // I/O stopped at shutdown), so the call always reaches OnDone.
  class Continuation {
   public:
    explicit Continuation(std::shared_ptr<StreamCall> call) : call_(std::move(call)) {}
    ~Continuation() {
      if (call_) call_->stop_reading();
    }
    Continuation(const Continuation&) = delete;
    Continuation& operator=(const Continuation&) = delete;

    void run(bool written) {
      const std::shared_ptr<StreamCall> call = std::move(call_);
      if (written) {
        call->StartRead(&call->event_);
      } else {
        call->stop_reading();
      }
    }

   private:
    std::shared_ptr<StreamCall> call_;
  };

  static grpc::Status missing_end() {
    return grpc::Status(grpc::StatusCode::INTERNAL, "The llm-proxy ended the stream without a result");
  }

  // The client is gone: stop reading and let the call end.
  void stop_reading() {
    context_.TryCancel();
    RemoveHold();
  }

  // Sends the headers if they are not out yet; returns what must precede the next content.
  std::string open_locked() {
    send_headers_locked();
    if (opened_) return {};
    opened_ = true;
    return format_->opening();
  }

  void send_headers_locked() {
    if (headers_sent_) return;
    headers_sent_ = true;
    exchange_->start_stream(200,
                            http::Headers{
                                {"Content-Type", std::string(kEventStreamType)},
                                {"Cache-Control", "no-cache"},
                                {"X-Accel-Buffering", "no"},
                                {std::string(kOverheadHeader), format_milliseconds(elapsed_ms(started_))},
                            });
  }

  void schedule_heartbeat() {
    exchange_->run_after(heartbeat_, [weak = weak_from_this()] {
      if (auto call = weak.lock()) call->heartbeat();
    });
  }

  void heartbeat() {
    std::lock_guard lock(mutex_);
    if (first_delta_seen_ || end_seen_ || done_) return;
    send_headers_locked();
    exchange_->write(std::string(kSseHeartbeat));
    schedule_heartbeat();
  }

  const CallCounter::Guard guard_;  // first: released last
  const ExchangePtr exchange_;
  const Clock::time_point started_;
  grpc::ClientContext context_;
  const v1::CompleteRequest request_;
  v1::StreamCompleteResponse event_;
  const std::unique_ptr<StreamFormat> format_;
  std::chrono::milliseconds heartbeat_{0};
  std::shared_ptr<StreamCall> self_;

  std::mutex mutex_;  // the gRPC thread (events, end) and the I/O thread (heartbeats) both send
  bool headers_sent_ = false;
  bool opened_ = false;
  bool first_delta_seen_ = false;
  bool end_seen_ = false;
  bool done_ = false;
};

void stream(Stub& stub, CallCounter& calls, const LlmRouteSettings& settings, const ExchangePtr& exchange,
            Clock::time_point started, v1::CompleteRequest request, std::unique_ptr<StreamFormat> format) {
  auto call = std::make_shared<StreamCall>(calls, exchange, started, std::move(request), std::move(format));
  call->start(stub, settings);
}

// ---- Handlers ---------------------------------------------------------------------------------------------

struct Routes {
  std::shared_ptr<Stub> stub;
  LlmRouteSettings settings;
  // Last: destroyed first, waiting for the calls in flight while everything else still exists.
  std::unique_ptr<CallCounter> calls = std::make_unique<CallCounter>();

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
    boost::system::error_code ec;
    const json::value body = json::parse(exchange->request().body(), ec);
    if (ec) {
      return reject(400, openai_wire::error_body(openai_wire::kInvalidJsonMessage, "invalid_request_error",
                                                 std::nullopt, std::nullopt));
    }
    auto chat = openai_wire::parse_chat_request(body, kServerName);
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
    call_unary<v1::ListModelsRequest, v1::ListModelsResponse>(
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
                    const LlmRouteSettings& settings) {
  auto routes = std::make_shared<Routes>();
  routes->stub = v1::LlmProxy::NewStub(llm_proxy);
  routes->settings = settings;
  router.add(http::Method::kPost, "/llm_request",
             [routes](const ExchangePtr& exchange) { routes->llm_request(exchange); });
  router.add(http::Method::kPost, "/llm_request_streaming",
             [routes](const ExchangePtr& exchange) { routes->llm_request_streaming(exchange); });
  router.add(http::Method::kPost, "/v1/chat/completions",
             [routes](const ExchangePtr& exchange) { routes->chat_completions(exchange); });
  router.add(http::Method::kGet, "/v1/models",
             [routes](const ExchangePtr& exchange) { routes->models(exchange, {}); });
  router.add(http::Method::kGet, "/v1/models/{model}", [routes](const ExchangePtr& exchange) {
    routes->models(exchange, std::string(exchange->request().path_param("model").value_or("")));
  });
}

}  // namespace rally::gateway::routes
