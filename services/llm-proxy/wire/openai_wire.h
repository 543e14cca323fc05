// The server side of OpenAI Chat Completions on the wire: request validation as the API does it (its
// messages, params and codes), and the exact bytes of responses, stream chunks, error bodies and model
// lists (compact JSON, fields in OpenAI's order). Shared by the LLM simulator and the gateway's
// OpenAI-compatible /v1 routes, so both answer an SDK the same way. Pure.
#pragma once

#include <boost/json/fwd.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "services/common/errors.h"

namespace rally::openai_wire {

// ---- Requests ---------------------------------------------------------------------------------------------

struct Message {
  std::string role;  // "system", "developer", "user", "assistant", "tool" or "function", as sent
  std::string text;  // the text parts of the content joined with '\n'; empty for null content
};

enum class ResponseFormat {
  kUnspecified,  // no response_format (or null)
  kText,
  kJsonObject,
  kJsonSchema,  // the schema itself is not kept: nothing downstream enforces it
};

struct ChatRequest {
  std::string model;
  std::vector<Message> messages;  // at least one
  std::optional<double> temperature;
  std::optional<double> top_p;
  std::optional<std::uint32_t> max_tokens;  // max_completion_tokens when given, else max_tokens
  std::vector<std::string> stop;            // up to four
  ResponseFormat response_format = ResponseFormat::kUnspecified;
  bool stream = false;
  bool include_usage = false;  // stream_options.include_usage

  // JSON mode: json_object or json_schema.
  bool json_mode() const {
    return response_format == ResponseFormat::kJsonObject || response_format == ResponseFormat::kJsonSchema;
  }
};

// Validates a parsed request body. Errors are kInvalidRequest with OpenAI's message, and the details
// "param" and "code" when OpenAI sends them (see invalid_request_body). Only n=1 is supported; that error
// says "<server_name> supports only n=1."
// OpenAI's rule for JSON mode: the word "json", in any case, somewhere in the text.
bool mentions_json(std::string_view text);

common::Result<ChatRequest> parse_chat_request(const boost::json::value& body,
                                               std::string_view server_name = "This server");

// OpenAI's answer (400) to a body that is not JSON.
inline constexpr std::string_view kInvalidJsonMessage =
    "We could not parse the JSON body of your request. (HINT: This likely means you aren't using your HTTP "
    "library correctly. The OpenAI API expects a JSON payload, but what was sent was not valid JSON. If you "
    "have trouble figuring out how to fix this, please contact us through our help center at "
    "help.openai.com.)";

// OpenAI's message for a 500 (and for a stream that fails midway).
inline constexpr std::string_view kServerErrorMessage =
    "The server had an error while processing your request. Sorry about that!";

// ---- Responses --------------------------------------------------------------------------------------------

// What every chunk and response of one completion shares.
struct ResponseIdentity {
  std::string id;  // "chatcmpl-..."
  std::int64_t created = 0;
  std::string model;
  std::string system_fingerprint;  // "fp_..."
};

struct Usage {
  std::uint64_t prompt_tokens = 0;
  std::uint64_t completion_tokens = 0;
  std::uint64_t total_tokens = 0;
};

// `finish_reason` is OpenAI's name: "stop", "length", "content_filter" or "tool_calls".
std::string completion_body(const ResponseIdentity& identity, std::string_view text,
                            std::string_view finish_reason, const Usage& usage);

// Stream events, each a complete "data: ...\n\n". With include_usage every chunk carries "usage":null
// and usage_event() comes after the finish chunk, as OpenAI does.
std::string role_event(const ResponseIdentity& identity, bool include_usage);
std::string content_event(const ResponseIdentity& identity, std::string_view text, bool include_usage);
std::string finish_event(const ResponseIdentity& identity, std::string_view finish_reason,
                         bool include_usage);
std::string usage_event(const ResponseIdentity& identity, const Usage& usage);
std::string done_event();
// An "error" object in place of a chunk, as OpenAI sends when a stream fails midway.
std::string error_event(std::string_view type, std::string_view message,
                        std::optional<std::string_view> code = std::nullopt);
// A data line cut off in the middle of its JSON: what a broken upstream looks like (for test servers).
std::string malformed_event(const ResponseIdentity& identity);

// ---- Errors -----------------------------------------------------------------------------------------------

// {"error":{"message","type","param","code"}}.
std::string error_body(std::string_view message, std::string_view type, std::optional<std::string_view> param,
                       std::optional<std::string_view> code);
// The 400 body for an error of parse_chat_request: its message, "invalid_request_error", and the details
// "param" and "code" when present.
std::string invalid_request_body(const common::Error& error);
// The 404 body OpenAI sends for an unknown model in a completion request (code "model_not_found"), and its
// message.
std::string model_not_found_body(std::string_view model);
std::string model_not_found_message(std::string_view model);
// The body OpenAI sends for an HTTP status with no more specific cause (429, 500, 503, ...).
std::string error_body_for_status(int status);
// The error type of that body ("requests" for 429, "server_error" for 5xx, "invalid_request_error" else).
std::string_view error_type_for_status(int status);

// ---- Models -----------------------------------------------------------------------------------------------

struct ModelEntry {
  std::string id;
  std::int64_t created = 0;
  std::string owned_by;  // "openai", "anthropic", "rally-llm-simulator", ...
};
// {"object":"list","data":[{"id","object":"model","created","owned_by"}]}
std::string models_body(const std::vector<ModelEntry>& models);
std::string model_body(const ModelEntry& model);

}  // namespace rally::openai_wire
