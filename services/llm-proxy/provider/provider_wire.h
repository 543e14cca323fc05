// What the OpenAI and Anthropic codecs have in common: the shape of a decoded stream event, of a whole
// answer, and how an HTTP error status becomes a ProviderFailure. Pure: no I/O.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "services/llm-proxy/domain/sse_parser.h"
#include "services/llm-proxy/http/http_client.h"
#include "services/llm-proxy/provider/provider_client.h"

namespace rally::llm_proxy {

// What one Server-Sent Event contributed to the answer.
struct StreamStep {
  std::string text;                        // text to pass on; empty when the event carried none
  std::optional<ProviderFailure> failure;  // set: the stream is broken or the provider reported an error
};

// Turns a provider's events into text deltas and a finish. One decoder per attempt; once it reported a
// failure or finished() turned true, it must not be fed again.
class StreamDecoder {
 public:
  virtual ~StreamDecoder() = default;

  virtual StreamStep decode(const SseEvent& event) = 0;
  // The provider's final event ([DONE], message_stop) was decoded.
  virtual bool finished() const = 0;
  // The finish reason, usage and response id gathered so far.
  virtual ProviderFinish finish() const = 0;
  // The final event's name, for "stream ended before ..." messages.
  virtual std::string_view final_event_name() const = 0;
};

// A whole (non-streamed) answer.
struct ProviderAnswer {
  std::string text;
  ProviderFinish finish;
};

using AnswerOrFailure = std::variant<ProviderAnswer, ProviderFailure>;

// 429 -> kRateLimited; 408 -> kTimeout; any 5xx (500, 502, 503, 504, Anthropic's 529, Cloudflare's 52x)
// -> kServerError; any other 4xx -> kClientError; anything else that is not 2xx (a redirect the client
// does not follow) -> kProtocolError.
FailureKind failure_kind_for_status(int status);

// A failure for an HTTP error status: kind from the status, retry_after from the Retry-After header, and
// `provider_message` as the message, or when it is empty a message naming the status with the start of
// `body` (a proxy's plain-text or HTML page says more than the status alone).
ProviderFailure status_failure(int status, std::string_view provider_message, std::string_view body,
                               const HttpHeaders& headers);

// A kProtocolError with `message`.
ProviderFailure protocol_failure(std::string message);

}  // namespace rally::llm_proxy
