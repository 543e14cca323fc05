// OpenAI Chat Completions on the wire: request validation as the API does it, and the exact bytes of
// responses, stream chunks and error bodies (compact JSON, fields in OpenAI's order). Pure.
#pragma once

#include <boost/json/fwd.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "services/common/errors.h"
#include "services/llm-proxy/simulator/reply_generator.h"

namespace rally::llm_simulator::openai {

struct ChatRequest {
  CompletionRequest completion;
  bool stream = false;
  bool include_usage = false;  // stream_options.include_usage
};

// Validates a parsed request body. Errors carry the offending parameter as the detail "param".
common::Result<ChatRequest> parse_chat_request(const boost::json::value& body);

// What every chunk and response of one completion shares.
struct ResponseIdentity {
  std::string id;  // "chatcmpl-..."
  std::int64_t created = 0;
  std::string model;
  std::string system_fingerprint;  // "fp_..."
};

std::string_view finish_reason_name(FinishReason finish);

std::string completion_body(const ResponseIdentity& identity, const Reply& reply);

// Stream events, each a complete "data: ...\n\n". With include_usage every chunk carries "usage":null
// and usage_event() comes after the finish chunk, as OpenAI does.
std::string role_event(const ResponseIdentity& identity, bool include_usage);
std::string content_event(const ResponseIdentity& identity, std::string_view text, bool include_usage);
std::string finish_event(const ResponseIdentity& identity, FinishReason finish, bool include_usage);
std::string usage_event(const ResponseIdentity& identity, const Reply& reply);
std::string done_event();
// An "error" object in place of a chunk, as OpenAI sends when a stream fails midway.
std::string error_event(std::string_view type, std::string_view message);
// A data line cut off in the middle of its JSON: what a broken upstream looks like.
std::string malformed_event(const ResponseIdentity& identity);

// {"error":{"message","type","param","code"}}.
std::string error_body(std::string_view message, std::string_view type, std::optional<std::string_view> param,
                       std::optional<std::string_view> code);
// The body OpenAI sends for an HTTP status with no more specific cause (429, 500, 503, ...).
std::string error_body_for_status(int status);
// The error type of that body ("requests" for 429, "server_error" for 5xx, "invalid_request_error" else).
std::string_view error_type_for_status(int status);

struct ModelEntry {
  std::string id;
  std::int64_t created = 0;
};
// {"object":"list","data":[{"id","object":"model","created","owned_by"}]}
std::string models_body(const std::vector<ModelEntry>& models);
std::string model_body(const ModelEntry& model);

}  // namespace rally::llm_simulator::openai
