// The contract between the HTTP server and route handlers, free of Beast and Asio.
//
// A handler receives one Exchange per request: the request and the obligation to answer it. It may answer
// at once or later, from any thread (typically a gRPC callback); the exchange carries the answer back to
// the connection's strand. A handler must not block: it starts upstream work and returns.
//
//   router.add(Method::kGet, "/api/v1/models/{model_id}/score",
//              [stub](const std::shared_ptr<Exchange>& exchange) {
//     auto call = std::make_shared<GetScoreCall>(exchange);  // owns ClientContext, request, response
//     upstream::prepare_call(call->context, exchange->request().request_id(), kScoringTimeout);
//     exchange->on_cancel([call] { call->context.TryCancel(); });  // the client went away
//     stub->async()->GetScore(&call->context, &call->request, &call->response,
//                             [call](const grpc::Status& status) {
//                               call->exchange->respond(status.ok() ? render(call->response)
//                                                                   : error_response(status, ...));
//                             });
//   });
//
// A streamed response (Server-Sent Events) is start_stream(), then write() per event, then finish(). write()
// takes a callback that runs once the chunk reached the socket; writing the next event from there keeps one
// chunk in flight, so a slow client slows the producer instead of growing a buffer. run_after() is the
// exchange's timer (heartbeats while a stream waits), so route code needs no Asio.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>

#include "gateway/http/headers.h"
#include "gateway/http/request.h"
#include "gateway/http/response.h"

namespace rally::gateway::http {

class Exchange {
 public:
  // `written` is true once the chunk was handed to the socket, false when the client went away first.
  using WriteCallback = std::function<void(bool written)>;

  // Bytes a stream may have queued but not yet written; write() refuses chunks beyond it.
  static constexpr std::size_t kMaxQueuedStreamBytes = 1 << 20;

  virtual ~Exchange() = default;

  virtual const Request& request() const = 0;

  // Sends the complete response. The first respond() or start_stream() decides the answer; later calls are
  // ignored, as are calls after the client went away. Any thread.
  virtual void respond(Response response) = 0;

  // Sends the status line and `headers` now; the body follows in write() chunks (chunked transfer coding)
  // and ends with finish(). Any thread.
  virtual void start_stream(int status, Headers headers) = 0;
  // Queues `chunk` behind earlier ones; `on_written` runs on the connection's I/O thread. Returns false,
  // dropping the chunk without calling `on_written`, when no stream is open, the client has gone away or
  // kMaxQueuedStreamBytes would be exceeded. Empty chunks are ignored. Any thread.
  virtual bool write(std::string chunk, WriteCallback on_written = {}) = 0;
  // Ends the streamed body; the connection then serves its next request. Any thread.
  virtual void finish() = 0;

  // True once the client has gone away or the server closed the connection: nothing more will be sent.
  virtual bool cancelled() const = 0;
  // Runs `callback` when the exchange is cancelled before its response is complete: on the connection's
  // I/O thread, or at once on the calling thread if it already is. Use it to abort upstream work
  // (grpc::ClientContext::TryCancel). Callbacks are released once the response is complete.
  virtual void on_cancel(std::function<void()> callback) = 0;

  // Names the caller (an API token's name) in the request's access log line; admission calls it once it
  // knows the caller. Any thread, before the response.
  virtual void set_caller_name(std::string name) { static_cast<void>(name); }

  // Runs `callback` once on the connection's I/O thread after `delay`, unless the response is complete or
  // the exchange cancelled by then: the callback is then released without running. A timer belongs to its
  // exchange, so nothing outlives the request; periodic work (SSE heartbeats) schedules its next run from
  // the callback. Any thread.
  virtual void run_after(std::chrono::milliseconds delay, std::function<void()> callback) = 0;
};

// A route handler. It runs on the connection's I/O thread with the request id set for logging, and keeps
// (copies) the exchange when it answers later.
// Dropping the exchange without answering sends 500 INTERNAL_ERROR (and ends a started stream abruptly), so
// a forgotten code path cannot hang a client. An escaping exception is also answered 500.
using Handler = std::function<void(const std::shared_ptr<Exchange>& exchange)>;

}  // namespace rally::gateway::http
