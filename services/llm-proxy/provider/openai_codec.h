// The OpenAI Chat Completions wire format, client side: the request body and headers for
// POST /v1/chat/completions, a decoder for its Server-Sent Events, and parsers for its whole and error
// responses. Two dialects share it: OpenAI's own API and the OpenAI-compatible servers (vLLM, Ollama,
// llama.cpp), which differ in how the token limit is named. Pure: no I/O.
#pragma once

#include <string>
#include <string_view>

#include "services/llm-proxy/domain/chat.h"
#include "services/llm-proxy/http/http_client.h"
#include "services/llm-proxy/provider/provider_wire.h"

namespace rally::llm_proxy {

enum class OpenAiDialect {
  kOpenAi,      // api.openai.com: max_completion_tokens (max_tokens is deprecated, and refused by o-series)
  kCompatible,  // vLLM, Ollama, llama.cpp: max_tokens (most do not know max_completion_tokens)
};

inline constexpr std::string_view kOpenAiChatPath = "/v1/chat/completions";

// The JSON body for `completion`. Only parameters the API knows are sent (it rejects unknown ones); stop
// is omitted when empty; JSON mode adds response_format {"type": "json_object"}, and, because the API
// refuses JSON mode unless a message mentions JSON, a system turn asking for JSON when none does;
// streaming adds stream_options.include_usage so the last chunk carries the token usage.
std::string openai_request_body(const ChatCompletion& completion, OpenAiDialect dialect);

// Authorization: Bearer <key> (omitted when the key is empty: local servers need none), Content-Type,
// and Accept: text/event-stream when streaming.
HttpHeaders openai_request_headers(std::string_view api_key, bool stream);

// Decodes `data: {chunk}` events up to `data: [DONE]`: content deltas (empty and role-only chunks give
// no text), the finish reason, the usage chunk and the response id. A `data: {"error": {...}}` event is
// the provider's failure; data that is not JSON, or not a chunk, is a kProtocolError.
class OpenAiStreamDecoder final : public StreamDecoder {
 public:
  StreamStep decode(const SseEvent& event) override;
  bool finished() const override { return done_; }
  ProviderFinish finish() const override { return finish_; }
  std::string_view final_event_name() const override { return "[DONE]"; }

 private:
  ProviderFinish finish_;
  bool done_ = false;
};

// A whole `chat.completion` response body (HTTP 2xx).
AnswerOrFailure parse_openai_response(std::string_view body);

// A failure for an HTTP error status; the message comes from {"error": {"message": ...}} when the body
// has one (OpenAI and every compatible server use that shape).
ProviderFailure parse_openai_error(int status, std::string_view body, const HttpHeaders& headers);

// The failure kind of an {"error": {...}} object sent with HTTP 200 (in a stream): rate limits by type or
// code, request errors as kClientError, anything else as kServerError.
FailureKind openai_error_kind(std::string_view type, std::string_view code);

}  // namespace rally::llm_proxy
