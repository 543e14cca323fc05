// The Anthropic Messages wire format, client side: the request body and headers for POST /v1/messages, a
// decoder for its Server-Sent Events, and parsers for its whole and error responses. Pure: no I/O.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "services/llm-proxy/domain/chat.h"
#include "services/llm-proxy/http/http_client.h"
#include "services/llm-proxy/provider/provider_wire.h"

namespace rally::llm_proxy {

inline constexpr std::string_view kAnthropicMessagesPath = "/v1/messages";
inline constexpr std::string_view kAnthropicVersion = "2023-06-01";

// Appended to the system prompt in JSON mode: the Messages API has no response_format, so the request for
// a single JSON object has to be an instruction.
inline constexpr std::string_view kAnthropicJsonModeInstruction =
    "Respond with a single JSON object and nothing else: no prose before or after it, no code fences.";

// The JSON body for `completion`:
//   - system turns, wherever they are, become the top-level "system" (joined with blank lines; the API
//     has no system role in messages), followed by the JSON-mode instruction when asked for;
//   - consecutive user or assistant turns are merged (blank line between them), as the API requires the
//     roles to alternate; turns with empty content are dropped (the API rejects empty content);
//   - max_tokens is always sent (the API requires it), stop becomes stop_sequences (omitted when empty);
//   - temperature is clamped to [0, 1], Anthropic's range: callers speak OpenAI's 0-2 scale, and clamping
//     keeps every value up to 1 meaning what it says (a proportional rescale would change all of them);
//     a request for more randomness than 1 gets the most Anthropic offers.
std::string anthropic_request_body(const ChatCompletion& completion);

// x-api-key (omitted when the key is empty), anthropic-version, content-type, and
// accept: text/event-stream when streaming.
HttpHeaders anthropic_request_headers(std::string_view api_key, bool stream);

// Decodes message_start (id, input tokens), content_block_start / content_block_delta text, message_delta
// (stop reason, cumulative output tokens) and message_stop (the end). ping and event types it does not know
// are ignored, as the API asks; an `error` event is the provider's failure; a known event whose data is
// not valid JSON is a kProtocolError.
class AnthropicStreamDecoder final : public StreamDecoder {
 public:
  StreamStep decode(const SseEvent& event) override;
  bool finished() const override { return done_; }
  ProviderFinish finish() const override;
  std::string_view final_event_name() const override { return "message_stop"; }

 private:
  ProviderFinish finish_;
  std::optional<std::uint32_t> input_tokens_;
  std::optional<std::uint32_t> output_tokens_;
  bool done_ = false;
};

// A whole `message` response body (HTTP 2xx); its text blocks are concatenated.
AnswerOrFailure parse_anthropic_response(std::string_view body);

// A failure for an HTTP error status; the message comes from {"type": "error", "error": {"message"}}.
ProviderFailure parse_anthropic_error(int status, std::string_view body, const HttpHeaders& headers);

// The failure kind of an error type in an `error` event: overloaded_error and api_error (and types this
// code does not know: after a 200 the fault is the server's) -> kServerError, rate_limit_error ->
// kRateLimited, the request errors (invalid_request_error, authentication_error, ...) -> kClientError.
FailureKind anthropic_error_kind(std::string_view type);

}  // namespace rally::llm_proxy
