// Relaying gRPC calls to HTTP exchanges, shared by the gateway's routes: unary calls answered from the
// reply (call_unary), and llm-proxy-format streams (rally.v1.StreamCompleteResponse, from the llm-proxy's
// StreamComplete or the arena's StreamBattle) relayed as Server-Sent Events with heartbeats, one event in
// flight, a slow client slowing the producer. Every relayed call carries the request id and a deadline,
// is cancelled when the client goes away, and is counted so route state outlives it. Included by route
// .cc files only (it pulls in gRPC's client headers).
#pragma once

#include <grpcpp/grpcpp.h>
#include <grpcpp/support/client_callback.h>

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "gateway/http/envelope.h"
#include "gateway/http/exchange.h"
#include "gateway/routes/llm_payloads.h"
#include "gateway/upstream/call_counter.h"
#include "gateway/upstream/upstream_call.h"
#include "rally/v1/llm_proxy.pb.h"

namespace rally::gateway::routes::relay {

using Clock = std::chrono::steady_clock;
using ExchangePtr = std::shared_ptr<http::Exchange>;
using upstream::CallCounter;

// The time the suite itself added to a response, in milliseconds (format_milliseconds).
inline constexpr std::string_view kOverheadHeader = "X-Rally-Overhead-Ms";
inline constexpr std::string_view kEventStreamType = "text/event-stream; charset=utf-8";

double elapsed_ms(Clock::time_point started);
http::Response with_overhead(http::Response response, double overhead_ms);

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

// Starts the streaming call on `context` with `reactor` (stub.async()->StreamComplete(context, &request,
// reactor)); the function keeps the request alive for the call.
using StreamStarter = std::function<void(grpc::ClientContext* context,
                                         grpc::ClientReadReactor<v1::StreamCompleteResponse>* reactor)>;

struct StreamSettings {
  std::chrono::milliseconds timeout{300000};   // the whole stream's deadline
  std::chrono::milliseconds heartbeat{10000};  // SSE comment interval while the first token is awaited
};

// Relays one stream to `exchange` in `format`. The headers go out with the first event, or with the first
// heartbeat when the first token is slow; a failure before that is answered as a plain response.
void relay_stream(CallCounter& calls, const ExchangePtr& exchange, Clock::time_point started,
                  StreamStarter starter, std::unique_ptr<StreamFormat> format,
                  const StreamSettings& settings);

}  // namespace rally::gateway::routes::relay
