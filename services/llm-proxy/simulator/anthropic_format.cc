#include "services/llm-proxy/simulator/anthropic_format.h"

#include <algorithm>
#include <array>
#include <boost/json.hpp>
#include <cstdint>
#include <utility>
#include <vector>

#include "services/common/utf8.h"
#include "services/llm-proxy/simulator/json_number.h"

namespace rally::llm_simulator::anthropic {
namespace {

namespace json = boost::json;
using common::Error;
using common::ErrorCode;
using common::Result;

// The API rejects any other top-level field ("Extra inputs are not permitted").
constexpr std::array<std::string_view, 16> kKnownFields = {
    "model",       "messages",     "max_tokens", "system",      "stop_sequences", "stream",
    "temperature", "top_p",        "top_k",      "metadata",    "tools",          "tool_choice",
    "thinking",    "service_tier", "container",  "mcp_servers",
};

Error invalid(std::string message) {
  return Error(ErrorCode::kInvalidRequest, std::move(message));
}

Error field_required(std::string_view field) {
  return invalid(std::string(field) + ": Field required");
}

// A string, or a list of content blocks whose text blocks are joined with '\n' (images, documents and
// tool blocks contribute no text).
Result<std::string> parse_content(const json::value& content, const std::string& field) {
  if (content.is_string()) return std::string(content.get_string());
  const json::array* blocks = content.if_array();
  if (blocks == nullptr) return invalid(field + ": Input should be a valid string or a valid list");
  std::string text;
  for (std::size_t i = 0; i < blocks->size(); ++i) {
    const std::string block_field = field + "." + std::to_string(i);
    const json::object* block = (*blocks)[i].if_object();
    if (block == nullptr) return invalid(block_field + ": Input should be a valid dictionary");
    const json::value* type = block->if_contains("type");
    if (type == nullptr) return field_required(block_field + ".type");
    if (!type->is_string()) return invalid(block_field + ".type: Input should be a valid string");
    if (type->get_string() != "text") continue;
    const json::value* block_text = block->if_contains("text");
    if (block_text == nullptr) return field_required(block_field + ".text");
    if (!block_text->is_string()) return invalid(block_field + ".text: Input should be a valid string");
    if (!text.empty()) text += '\n';
    text += block_text->get_string();
  }
  return text;
}

Result<std::vector<ChatMessage>> parse_messages(const json::value* value) {
  if (value == nullptr) return field_required("messages");
  const json::array* list = value->if_array();
  if (list == nullptr) return invalid("messages: Input should be a valid list");
  if (list->empty()) return invalid("messages: List should have at least 1 item after validation, not 0");
  std::vector<ChatMessage> messages;
  for (std::size_t i = 0; i < list->size(); ++i) {
    const std::string field = "messages." + std::to_string(i);
    const json::object* message = (*list)[i].if_object();
    if (message == nullptr) return invalid(field + ": Input should be a valid dictionary");
    const json::value* role = message->if_contains("role");
    if (role == nullptr) return field_required(field + ".role");
    if (!role->is_string()) return invalid(field + ".role: Input should be 'user' or 'assistant'");
    const std::string_view role_name = role->get_string();
    if (role_name == "system") {
      return invalid(
          "messages: Unexpected role \"system\". The Messages API accepts a top-level `system` parameter, "
          "not "
          "\"system\" as an input message role.");
    }
    if (role_name != "user" && role_name != "assistant") {
      return invalid(field + ".role: Input should be 'user' or 'assistant'");
    }
    const json::value* content = message->if_contains("content");
    if (content == nullptr) return field_required(field + ".content");
    auto text = parse_content(*content, field + ".content");
    if (!text) return text.error();
    messages.push_back(ChatMessage{std::string(role_name), std::move(text.value())});
  }
  return messages;
}

std::string event(std::string_view name, const json::value& data) {
  std::string text = "event: ";
  text.append(name);
  text += "\ndata: ";
  text += json::serialize(data);
  text += "\n\n";
  return text;
}

}  // namespace

Result<MessagesRequest> parse_messages_request(const json::value& body) {
  const json::object* object = body.if_object();
  if (object == nullptr) return invalid("Input should be a valid dictionary");
  for (const auto& [key, value] : *object) {
    if (std::find(kKnownFields.begin(), kKnownFields.end(), std::string_view(key)) == kKnownFields.end()) {
      return invalid(std::string(key) + ": Extra inputs are not permitted");
    }
  }

  MessagesRequest request;
  const json::value* model = object->if_contains("model");
  if (model == nullptr) return field_required("model");
  if (!model->is_string()) return invalid("model: Input should be a valid string");
  request.completion.model = std::string(model->get_string());

  const json::value* max_tokens = object->if_contains("max_tokens");
  if (max_tokens == nullptr) return field_required("max_tokens");
  const auto limit = as_integer(*max_tokens);
  if (!limit) return invalid("max_tokens: Input should be a valid integer");
  if (*limit < 1) return invalid("max_tokens: Input should be greater than or equal to 1");
  request.completion.max_tokens = static_cast<std::uint32_t>(std::min<std::int64_t>(*limit, UINT32_MAX));

  if (const json::value* system = object->if_contains("system"); system != nullptr && !system->is_null()) {
    auto text = parse_content(*system, "system");
    if (!text) return text.error();
    request.completion.messages.push_back(ChatMessage{"system", std::move(text.value())});
  }
  auto messages = parse_messages(object->if_contains("messages"));
  if (!messages) return messages.error();
  for (ChatMessage& message : messages.value()) request.completion.messages.push_back(std::move(message));

  if (const json::value* stream = object->if_contains("stream"); stream != nullptr && !stream->is_null()) {
    if (!stream->is_bool()) return invalid("stream: Input should be a valid boolean");
    request.stream = stream->get_bool();
  }
  if (const json::value* stops = object->if_contains("stop_sequences");
      stops != nullptr && !stops->is_null()) {
    const json::array* list = stops->if_array();
    if (list == nullptr) return invalid("stop_sequences: Input should be a valid list");
    for (std::size_t i = 0; i < list->size(); ++i) {
      if (!(*list)[i].is_string()) {
        return invalid("stop_sequences." + std::to_string(i) + ": Input should be a valid string");
      }
      request.completion.stop_sequences.emplace_back((*list)[i].get_string());
    }
  }
  if (const json::value* temperature = object->if_contains("temperature");
      temperature != nullptr && !temperature->is_null()) {
    if (!temperature->is_number()) return invalid("temperature: Input should be a valid number");
    const double t = temperature->to_number<double>();
    if (t < 0) return invalid("temperature: Input should be greater than or equal to 0");
    if (t > 1) return invalid("temperature: Input should be less than or equal to 1");
  }
  return request;
}

std::string_view stop_reason_name(FinishReason finish) {
  switch (finish) {
    case FinishReason::kEndOfText:
      return "end_turn";
    case FinishReason::kMaxTokens:
      return "max_tokens";
    case FinishReason::kStopSequence:
      return "stop_sequence";
  }
  return "end_turn";
}

namespace {

json::value stop_sequence_value(const Reply& reply) {
  return reply.finish == FinishReason::kStopSequence ? json::value(reply.stop_sequence)
                                                     : json::value(nullptr);
}

}  // namespace

std::string message_body(const ResponseIdentity& identity, const Reply& reply) {
  json::object body;
  body["id"] = identity.id;
  body["type"] = "message";
  body["role"] = "assistant";
  body["model"] = identity.model;
  body["content"] = json::array{json::object{{"type", "text"}, {"text", reply.text}}};
  body["stop_reason"] = stop_reason_name(reply.finish);
  body["stop_sequence"] = stop_sequence_value(reply);
  body["usage"] =
      json::object{{"input_tokens", reply.prompt_tokens}, {"output_tokens", reply.completion_tokens}};
  return json::serialize(body);
}

std::string message_start_event(const ResponseIdentity& identity, std::uint32_t input_tokens) {
  json::object message;
  message["id"] = identity.id;
  message["type"] = "message";
  message["role"] = "assistant";
  message["content"] = json::array{};
  message["model"] = identity.model;
  message["stop_reason"] = nullptr;
  message["stop_sequence"] = nullptr;
  // The API reports one output token at the start; message_delta carries the real total.
  message["usage"] = json::object{{"input_tokens", input_tokens}, {"output_tokens", 1}};
  return event("message_start", json::object{{"type", "message_start"}, {"message", std::move(message)}});
}

std::string content_block_start_event() {
  return event("content_block_start", json::object{{"type", "content_block_start"},
                                                   {"index", 0},
                                                   {"content_block", {{"type", "text"}, {"text", ""}}}});
}

std::string ping_event() {
  // Byte for byte as the API sends it, space included.
  return "event: ping\ndata: {\"type\": \"ping\"}\n\n";
}

std::string text_delta_event(std::string_view text) {
  return event("content_block_delta", json::object{{"type", "content_block_delta"},
                                                   {"index", 0},
                                                   {"delta", {{"type", "text_delta"}, {"text", text}}}});
}

std::string content_block_stop_event() {
  return event("content_block_stop", json::object{{"type", "content_block_stop"}, {"index", 0}});
}

std::string message_delta_event(const Reply& reply) {
  json::object delta;
  delta["stop_reason"] = stop_reason_name(reply.finish);
  delta["stop_sequence"] = stop_sequence_value(reply);
  return event("message_delta", json::object{{"type", "message_delta"},
                                             {"delta", std::move(delta)},
                                             {"usage", {{"output_tokens", reply.completion_tokens}}}});
}

std::string message_stop_event() {
  return event("message_stop", json::object{{"type", "message_stop"}});
}

std::string error_event(std::string_view type, std::string_view message) {
  return "event: error\ndata: " + error_body(type, message) + "\n\n";
}

std::string malformed_event() {
  return "event: content_block_delta\ndata: "
         "{\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\n\n";
}

std::string error_body(std::string_view type, std::string_view message) {
  // Messages may quote what the client sent (a header value, a path): JSON needs valid UTF-8.
  return json::serialize(json::object{
      {"type", "error"}, {"error", json::object{{"type", type}, {"message", common::repair_utf8(message)}}}});
}

std::string_view error_type_for_status(int status) {
  switch (status) {
    case 401:
      return "authentication_error";
    case 403:
      return "permission_error";
    case 404:
      return "not_found_error";
    case 413:
      return "request_too_large";
    case 429:
      return "rate_limit_error";
    case 529:
      return "overloaded_error";
    default:
      return status >= 500 ? "api_error" : "invalid_request_error";
  }
}

std::string error_body_for_status(int status) {
  const std::string_view type = error_type_for_status(status);
  switch (status) {
    case 401:
      return error_body(type, "invalid x-api-key");
    case 403:
      return error_body(type, "Your API key does not have permission to use the specified resource.");
    case 404:
      return error_body(type, "The requested resource could not be found.");
    case 413:
      return error_body(type, "Request exceeds the maximum allowed number of bytes.");
    case 429:
      return error_body(type, "Number of request tokens has exceeded your per-minute rate limit.");
    case 529:
      return error_body(type, "Overloaded");
    case 500:
      return error_body(type, "Internal server error");
    default:
      break;
  }
  if (status >= 500) return error_body(type, "Service unavailable (status " + std::to_string(status) + ")");
  return error_body(type, "The request failed with status " + std::to_string(status) + ".");
}

}  // namespace rally::llm_simulator::anthropic
