#include "services/llm-proxy/provider/http_provider_client.h"

#include <algorithm>
#include <cctype>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "services/llm-proxy/domain/sse_parser.h"
#include "services/llm-proxy/provider/anthropic_codec.h"
#include "services/llm-proxy/provider/openai_codec.h"
#include "services/llm-proxy/provider/provider_wire.h"

namespace rally::llm_proxy {
namespace {

using AnswerParser = AnswerOrFailure (*)(std::string_view body);
using ErrorParser = ProviderFailure (*)(int status, std::string_view body, const HttpHeaders& headers);

// One request in one provider's wire format, with what reads the reply.
struct WireExchange {
  std::string_view path;
  HttpHeaders headers;
  std::string body;
  std::unique_ptr<StreamDecoder> decoder;  // streaming requests only
  AnswerParser parse_answer = nullptr;
  ErrorParser parse_error = nullptr;
};

WireExchange wire_exchange(const ProviderEndpoint& endpoint, const ChatCompletion& completion) {
  WireExchange wire;
  if (endpoint.kind == ProviderKind::kAnthropic) {
    wire.path = kAnthropicMessagesPath;
    wire.headers = anthropic_request_headers(endpoint.api_key, completion.stream);
    wire.body = anthropic_request_body(completion);
    if (completion.stream) wire.decoder = std::make_unique<AnthropicStreamDecoder>();
    wire.parse_answer = parse_anthropic_response;
    wire.parse_error = parse_anthropic_error;
    return wire;
  }
  const OpenAiDialect dialect =
      endpoint.kind == ProviderKind::kOpenAi ? OpenAiDialect::kOpenAi : OpenAiDialect::kCompatible;
  wire.path = kOpenAiChatPath;
  wire.headers = openai_request_headers(endpoint.api_key, completion.stream);
  wire.body = openai_request_body(completion, dialect);
  if (completion.stream) wire.decoder = std::make_unique<OpenAiStreamDecoder>();
  wire.parse_answer = parse_openai_response;
  wire.parse_error = parse_openai_error;
  return wire;
}

std::string request_url(std::string_view base_url, std::string_view path) {
  while (base_url.ends_with('/')) base_url.remove_suffix(1);
  return std::string(base_url) + std::string(path);
}

// A streaming request answered with a JSON body (a server that ignores "stream", or one that reports an
// error with status 200) is read as a whole answer.
bool is_json_body(const HttpResponseHead& head) {
  const auto type = head.header("content-type");
  if (!type) return false;
  std::string lower(*type);
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return lower.starts_with("application/json");
}

ProviderFailure transport_failure(const HttpError& error) {
  ProviderFailure failure;
  failure.message = error.message;
  switch (error.kind) {
    case HttpErrorKind::kResolve:
    case HttpErrorKind::kConnect:
    case HttpErrorKind::kTls:
    case HttpErrorKind::kTimeoutConnect:
      failure.kind = FailureKind::kConnect;
      break;
    case HttpErrorKind::kTimeoutFirstByte:
    case HttpErrorKind::kTimeoutIdle:
    case HttpErrorKind::kTimeoutTotal:
      failure.kind = FailureKind::kTimeout;
      break;
    case HttpErrorKind::kCancelled:
      failure.kind = FailureKind::kCancelled;
      failure.message = "the call to the provider was cancelled";
      break;
    case HttpErrorKind::kClosedEarly:
      failure.kind = FailureKind::kProtocolError;
      failure.message = "the provider closed the connection before the response ended: " + error.message;
      break;
    case HttpErrorKind::kProtocol:
      failure.kind = FailureKind::kProtocolError;
      failure.message = "the provider's response is not valid HTTP: " + error.message;
      break;
    case HttpErrorKind::kBodyTooLarge:
      failure.kind = FailureKind::kProtocolError;
      failure.message = "the provider's response is too large: " + error.message;
      break;
  }
  return failure;
}

// The state of one attempt, shared by the HTTP callbacks (which the HTTP client runs one at a time, in
// order) and start() (which hands over the HttpCall once it has one).
class Attempt : public std::enable_shared_from_this<Attempt> {
 public:
  Attempt(ProviderHandler handler, WireExchange wire)
      : handler_(std::move(handler)),
        decoder_(std::move(wire.decoder)),
        parse_answer_(wire.parse_answer),
        parse_error_(wire.parse_error) {}

  HttpResponseHandler http_handler() {
    auto self = shared_from_this();
    return HttpResponseHandler{
        .on_start = [self](const HttpCall& call) { self->attach(call); },
        .on_head = [self](const HttpResponseHead& head) { self->on_head(head); },
        .on_body = [self](std::string_view chunk) { self->on_body(chunk); },
        .on_complete = [self](std::optional<HttpError> error) { self->on_complete(std::move(error)); },
    };
  }

  // Runs inside HttpClient::start() before any I/O (on_start), so a failure the decoder finds can always
  // close the connection, however early it comes.
  void attach(HttpCall call) {
    bool cancel_now = false;
    {
      const std::lock_guard lock(call_mutex_);
      call_ = call;
      cancel_now = stop_requested_;
    }
    if (cancel_now) call.cancel();
  }

  // For a request that could not be sent at all: the only callback of the attempt.
  void fail_before_start(ProviderFailure failure) { report(std::move(failure)); }

 private:
  enum class Mode {
    kAwaitingHead,
    kStream,       // 2xx, text/event-stream
    kWhole,        // 2xx, one JSON body
    kErrorStatus,  // not 2xx: the body is an error message
  };

  void on_head(const HttpResponseHead& head) {
    status_ = head.status;
    if (status_ < 200 || status_ > 299) {
      mode_ = Mode::kErrorStatus;
      error_headers_ = head.headers;
    } else {
      mode_ = decoder_ && !is_json_body(head) ? Mode::kStream : Mode::kWhole;
    }
  }

  void on_body(std::string_view chunk) {
    if (outcome_) return;  // decided: what follows changes nothing
    switch (mode_) {
      case Mode::kStream:
        return decode_stream(chunk);
      case Mode::kWhole:
        if (body_.size() + chunk.size() > HttpProviderClient::kMaxAnswerBodyBytes) {
          return settle(protocol_failure("the provider's response body exceeds " +
                                         std::to_string(HttpProviderClient::kMaxAnswerBodyBytes) + " bytes"));
        }
        body_.append(chunk);
        return;
      case Mode::kErrorStatus: {
        const std::size_t room = HttpProviderClient::kMaxErrorBodyBytes - body_.size();
        body_.append(chunk.substr(0, room));
        // Enough to find the message; an error body this large is not worth reading to its end.
        if (chunk.size() >= room) settle(parse_error_(status_, body_, error_headers_));
        return;
      }
      case Mode::kAwaitingHead:
        return;
    }
  }

  void decode_stream(std::string_view chunk) {
    if (!sse_.feed(chunk, events_)) {
      events_.clear();
      return settle(protocol_failure("a stream event from the provider exceeds the event size limit"));
    }
    for (const SseEvent& event : events_) {
      StreamStep step = decoder_->decode(event);
      if (!step.text.empty()) deliver(step.text);
      if (step.failure) {
        settle(std::move(*step.failure));
        break;
      }
      if (decoder_->finished()) {
        outcome_ = decoder_->finish();  // the HTTP call ends by itself: the body is complete
        break;
      }
    }
    events_.clear();
  }

  void on_complete(std::optional<HttpError> error) {
    if (outcome_) {
      if (auto* failure = std::get_if<ProviderFailure>(&*outcome_)) return report(std::move(*failure));
      return report_finish(std::get<ProviderFinish>(*outcome_));
    }
    // The status already says what happened; a body cut short only costs the provider's wording.
    if (mode_ == Mode::kErrorStatus && !(error && error->kind == HttpErrorKind::kCancelled)) {
      return report(parse_error_(status_, body_, error_headers_));
    }
    if (error) {
      ProviderFailure failure = transport_failure(*error);
      if (mode_ == Mode::kStream && error->kind == HttpErrorKind::kClosedEarly) {
        failure.message = "the provider closed the connection before " +
                          std::string(decoder_->final_event_name()) + ": " + error->message;
      }
      return report(std::move(failure));
    }
    switch (mode_) {
      case Mode::kStream:
        return report(protocol_failure(std::string(sse_.has_partial_event()
                                                       ? "the stream ended in the middle of an event, before "
                                                       : "the stream ended before ") +
                                       std::string(decoder_->final_event_name())));
      case Mode::kWhole: {
        AnswerOrFailure answer = parse_answer_(body_);
        if (auto* failure = std::get_if<ProviderFailure>(&answer)) return report(std::move(*failure));
        auto& whole = std::get<ProviderAnswer>(answer);
        if (!whole.text.empty()) deliver(whole.text);
        return report_finish(std::move(whole.finish));
      }
      case Mode::kErrorStatus:  // handled above
      case Mode::kAwaitingHead:
        break;
    }
    report(protocol_failure("the HTTP call ended without a response"));
  }

  // Decides the outcome before the HTTP call ended; it is reported from on_complete, which the
  // cancellation brings at once, so the terminal callback is still the last one.
  void settle(ProviderFailure failure) {
    outcome_ = std::move(failure);
    HttpCall call;
    {
      const std::lock_guard lock(call_mutex_);
      stop_requested_ = true;
      if (!call_) return;  // attach() cancels
      call = *call_;
    }
    call.cancel();  // closes the upstream connection: the provider stops generating
  }

  void deliver(std::string_view text) {
    output_sent_ = true;
    if (handler_.on_delta) handler_.on_delta(text);
  }

  void report(ProviderFailure failure) {
    failure.output_sent = output_sent_;
    if (handler_.on_failure) handler_.on_failure(std::move(failure));
  }

  void report_finish(ProviderFinish finish) {
    if (handler_.on_finish) handler_.on_finish(std::move(finish));
  }

  ProviderHandler handler_;
  std::unique_ptr<StreamDecoder> decoder_;
  AnswerParser parse_answer_;
  ErrorParser parse_error_;

  Mode mode_ = Mode::kAwaitingHead;
  int status_ = 0;
  HttpHeaders error_headers_;
  std::string body_;  // a whole answer or an error body
  SseParser sse_;
  std::vector<SseEvent> events_;
  bool output_sent_ = false;
  std::optional<std::variant<ProviderFinish, ProviderFailure>> outcome_;

  std::mutex call_mutex_;
  std::optional<HttpCall> call_;
  bool stop_requested_ = false;
};

}  // namespace

ProviderCall HttpProviderClient::start(const ProviderEndpoint& endpoint, const ChatCompletion& completion,
                                       ProviderHandler handler) {
  WireExchange wire = wire_exchange(endpoint, completion);
  HttpRequest request;
  request.method = "POST";
  request.url = request_url(endpoint.base_url, wire.path);
  request.headers = std::move(wire.headers);
  request.body = std::move(wire.body);
  request.timeouts = endpoint.timeouts;

  auto attempt = std::make_shared<Attempt>(std::move(handler), std::move(wire));
  HttpCall call;
  try {
    call = http_.start(std::move(request), attempt->http_handler());
  } catch (const std::invalid_argument& error) {
    ProviderFailure failure;
    failure.kind = FailureKind::kClientError;
    failure.message =
        "cannot send a request to the provider at \"" + endpoint.base_url + "\": " + error.what();
    attempt->fail_before_start(std::move(failure));
    return ProviderCall();
  }
  return ProviderCall(call);
}

}  // namespace rally::llm_proxy
