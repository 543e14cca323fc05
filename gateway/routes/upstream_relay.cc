#include "gateway/routes/upstream_relay.h"

#include <mutex>
#include <utility>

#include "services/common/grpc_status.h"

namespace rally::gateway::routes::relay {

double elapsed_ms(Clock::time_point started) {
  return std::chrono::duration<double, std::milli>(Clock::now() - started).count();
}

http::Response with_overhead(http::Response response, double overhead_ms) {
  response.headers.set(std::string(kOverheadHeader), format_milliseconds(overhead_ms));
  return response;
}

namespace {

// One StreamComplete call relayed to the client. One read is in flight at a time, and the next starts only
// once the previous event reached the socket, so a slow client slows the llm-proxy (and the provider
// behind it) instead of growing a buffer. The headers go out with the first event, or with the first
// heartbeat when the first token is slow; a failure before that is answered as a plain response.
class StreamCall final : public grpc::ClientReadReactor<v1::StreamCompleteResponse>,
                         public std::enable_shared_from_this<StreamCall> {
 public:
  StreamCall(CallCounter& calls, ExchangePtr exchange, Clock::time_point started, StreamStarter starter,
             std::unique_ptr<StreamFormat> format)
      : guard_(calls),
        exchange_(std::move(exchange)),
        started_(started),
        starter_(std::move(starter)),
        format_(std::move(format)) {}

  void start(const StreamSettings& settings) {
    self_ = shared_from_this();  // released in OnDone
    heartbeat_ = settings.heartbeat;
    upstream::prepare_call(context_, exchange_->request().request_id(), settings.timeout);
    exchange_->on_cancel([weak = weak_from_this()] {
      if (auto call = weak.lock()) call->context_.TryCancel();
    });
    starter_(&context_, this);
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
  const StreamStarter starter_;  // holds the request
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

}  // namespace

void relay_stream(CallCounter& calls, const ExchangePtr& exchange, Clock::time_point started,
                  StreamStarter starter, std::unique_ptr<StreamFormat> format,
                  const StreamSettings& settings) {
  auto call = std::make_shared<StreamCall>(calls, exchange, started, std::move(starter), std::move(format));
  call->start(settings);
}

}  // namespace rally::gateway::routes::relay
