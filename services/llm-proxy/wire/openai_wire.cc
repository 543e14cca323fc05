#include "services/llm-proxy/wire/openai_wire.h"

#include <algorithm>
#include <array>
#include <boost/json.hpp>
#include <cstdint>
#include <utility>

#include "services/common/utf8.h"
#include "services/llm-proxy/wire/json_number.h"

namespace rally::openai_wire {
namespace {

namespace json = boost::json;
using common::Error;
using common::ErrorCode;
using common::Result;

// Every parameter of POST /v1/chat/completions; anything else is rejected, as the API does, so a typo in
// a client fails here as it would against OpenAI.
constexpr std::array<std::string_view, 30> kKnownParameters = {
    "model",
    "messages",
    "stream",
    "stream_options",
    "max_tokens",
    "max_completion_tokens",
    "temperature",
    "top_p",
    "n",
    "stop",
    "response_format",
    "presence_penalty",
    "frequency_penalty",
    "logit_bias",
    "logprobs",
    "top_logprobs",
    "user",
    "seed",
    "tools",
    "tool_choice",
    "parallel_tool_calls",
    "service_tier",
    "store",
    "metadata",
    "modalities",
    "audio",
    "prediction",
    "reasoning_effort",
    "function_call",
    "functions",
};

constexpr std::array<std::string_view, 6> kRoles = {"system",    "developer", "user",
                                                    "assistant", "tool",      "function"};

constexpr std::uint32_t kMaxStopSequences = 4;

Error invalid(std::string message, std::optional<std::string> param = std::nullopt,
              std::optional<std::string> code = std::nullopt) {
  std::vector<std::pair<std::string, std::string>> details;
  if (param) details.emplace_back("param", std::move(*param));
  if (code) details.emplace_back("code", std::move(*code));
  return Error(ErrorCode::kInvalidRequest, std::move(message), std::move(details));
}

std::string_view describe_kind(const json::value& value) {
  switch (value.kind()) {
    case json::kind::null:
      return "null";
    case json::kind::bool_:
      return "a boolean";
    case json::kind::int64:
    case json::kind::uint64:
      return "an integer";
    case json::kind::double_:
      return "a decimal";
    case json::kind::string:
      return "a string";
    case json::kind::array:
      return "an array";
    case json::kind::object:
      return "an object";
  }
  return "a value";
}

Error wrong_type(const std::string& param, std::string_view expected, const json::value& got) {
  return invalid("Invalid type for '" + param + "': expected " + std::string(expected) + ", but got " +
                     std::string(describe_kind(got)) + " instead.",
                 param, "invalid_type");
}

Error missing(const std::string& param) {
  return invalid("Missing required parameter: '" + param + "'.", param, "missing_required_parameter");
}

// Content is a string, null (assistant messages with tool calls) or an array of parts; the text parts are
// joined with '\n' and other parts (images, audio, files) contribute no text.
Result<std::string> parse_content(const json::value& content, const std::string& param) {
  if (content.is_string()) return std::string(content.get_string());
  if (content.is_null()) return std::string();
  const json::array* parts = content.if_array();
  if (parts == nullptr) return wrong_type(param, "one of a string or array of objects", content);
  std::string text;
  for (std::size_t i = 0; i < parts->size(); ++i) {
    const std::string part_param = param + "[" + std::to_string(i) + "]";
    const json::object* part = (*parts)[i].if_object();
    if (part == nullptr) return wrong_type(part_param, "an object", (*parts)[i]);
    const json::value* type = part->if_contains("type");
    if (type == nullptr) return missing(part_param + ".type");
    if (!type->is_string()) return wrong_type(part_param + ".type", "a string", *type);
    if (type->get_string() != "text") continue;
    const json::value* part_text = part->if_contains("text");
    if (part_text == nullptr) return missing(part_param + ".text");
    if (!part_text->is_string()) return wrong_type(part_param + ".text", "a string", *part_text);
    if (!text.empty()) text += '\n';
    text += part_text->get_string();
  }
  return text;
}

Result<std::vector<Message>> parse_messages(const json::value* value) {
  if (value == nullptr) return missing("messages");
  const json::array* list = value->if_array();
  if (list == nullptr) return wrong_type("messages", "an array", *value);
  if (list->empty()) {
    return invalid(
        "Invalid 'messages': empty array. Expected an array with minimum length 1, but got an empty array "
        "instead.",
        "messages", "empty_array");
  }
  std::vector<Message> messages;
  messages.reserve(list->size());
  for (std::size_t i = 0; i < list->size(); ++i) {
    const std::string param = "messages[" + std::to_string(i) + "]";
    const json::object* message = (*list)[i].if_object();
    if (message == nullptr) return wrong_type(param, "an object", (*list)[i]);
    const json::value* role = message->if_contains("role");
    if (role == nullptr) return missing(param + ".role");
    if (!role->is_string()) return wrong_type(param + ".role", "a string", *role);
    const std::string_view role_name = role->get_string();
    if (std::find(kRoles.begin(), kRoles.end(), role_name) == kRoles.end()) {
      return invalid("Invalid value: '" + std::string(role_name) +
                         "'. Supported values are: 'system', 'assistant', 'user', 'function', 'tool', and "
                         "'developer'.",
                     param + ".role", "invalid_value");
    }
    const json::value* content = message->if_contains("content");
    if (content == nullptr && role_name != "assistant") return missing(param + ".content");
    auto text =
        content == nullptr ? Result<std::string>(std::string()) : parse_content(*content, param + ".content");
    if (!text) return text.error();
    messages.push_back(Message{std::string(role_name), std::move(text.value())});
  }
  return messages;
}

Result<std::vector<std::string>> parse_stop(const json::value& value) {
  if (value.is_null()) return std::vector<std::string>();
  if (value.is_string()) return std::vector<std::string>{std::string(value.get_string())};
  const json::array* list = value.if_array();
  if (list == nullptr) return wrong_type("stop", "one of a string or array of strings", value);
  if (list->size() > kMaxStopSequences) {
    return invalid(
        "Invalid 'stop': array too long. Expected an array with maximum length 4, but got an array "
        "with length " +
            std::to_string(list->size()) + " instead.",
        "stop", "array_above_max_length");
  }
  std::vector<std::string> stops;
  for (std::size_t i = 0; i < list->size(); ++i) {
    if (!(*list)[i].is_string()) {
      return wrong_type("stop[" + std::to_string(i) + "]", "a string", (*list)[i]);
    }
    stops.emplace_back((*list)[i].get_string());
  }
  return stops;
}

// A number within [0, max] (temperature, top_p); nullopt when absent or null.
Result<std::optional<double>> parse_bounded_decimal(const json::object& object, std::string_view name,
                                                    int max) {
  const json::value* value = object.if_contains(name);
  if (value == nullptr || value->is_null()) return std::optional<double>();
  const std::string param(name);
  if (!value->is_number()) return wrong_type(param, "a decimal", *value);
  const double number = value->to_number<double>();
  if (number < 0 || number > max) {
    const bool below = number < 0;
    return invalid("Invalid '" + param + "': decimal " + (below ? "below minimum" : "above maximum") +
                       " value. Expected a value " + (below ? ">= 0" : "<= " + std::to_string(max)) +
                       ", but got " + json::serialize(*value) + " instead.",
                   param, below ? "decimal_below_min_value" : "decimal_above_max_value");
  }
  return std::optional<double>(number);
}

Result<ResponseFormat> parse_response_format(const json::value& format) {
  if (format.is_null()) return ResponseFormat::kUnspecified;
  const json::object* fields = format.if_object();
  if (fields == nullptr) return wrong_type("response_format", "an object", format);
  const json::value* type = fields->if_contains("type");
  if (type == nullptr) return missing("response_format.type");
  if (!type->is_string()) return wrong_type("response_format.type", "a string", *type);
  const std::string_view name = type->get_string();
  if (name == "text") return ResponseFormat::kText;
  if (name == "json_object") return ResponseFormat::kJsonObject;
  if (name == "json_schema") return ResponseFormat::kJsonSchema;
  return invalid("Invalid value: '" + std::string(name) +
                     "'. Supported values are: 'json_object', 'json_schema', and 'text'.",
                 "response_format.type", "invalid_value");
}

bool mentions_json(const std::vector<Message>& messages) {
  return std::any_of(messages.begin(), messages.end(),
                     [](const Message& message) { return openai_wire::mentions_json(message.text); });
}

json::object chunk_head(const ResponseIdentity& identity) {
  json::object chunk;
  chunk["id"] = identity.id;
  chunk["object"] = "chat.completion.chunk";
  chunk["created"] = identity.created;
  chunk["model"] = identity.model;
  chunk["system_fingerprint"] = identity.system_fingerprint;
  return chunk;
}

json::object usage_object(const Usage& usage) {
  json::object object;
  object["prompt_tokens"] = usage.prompt_tokens;
  object["completion_tokens"] = usage.completion_tokens;
  object["total_tokens"] = usage.total_tokens;
  return object;
}

json::object model_object(const ModelEntry& model) {
  json::object entry;
  entry["id"] = model.id;
  entry["object"] = "model";
  entry["created"] = model.created;
  entry["owned_by"] = model.owned_by;
  return entry;
}

std::string data_event(const json::value& payload) {
  return "data: " + json::serialize(payload) + "\n\n";
}

std::string chunk_event(const ResponseIdentity& identity, json::object delta, json::value finish_reason,
                        bool include_usage) {
  json::object chunk = chunk_head(identity);
  json::object choice;
  choice["index"] = 0;
  choice["delta"] = std::move(delta);
  choice["logprobs"] = nullptr;
  choice["finish_reason"] = std::move(finish_reason);
  chunk["choices"] = json::array{std::move(choice)};
  if (include_usage) chunk["usage"] = nullptr;
  return data_event(chunk);
}

std::optional<std::string_view> detail_of(const Error& error, std::string_view key) {
  for (const auto& [name, value] : error.details) {
    if (name == key) return std::string_view(value);
  }
  return std::nullopt;
}

}  // namespace

bool mentions_json(std::string_view text) {
  for (std::size_t i = 0; i + 4 <= text.size(); ++i) {
    const auto lower = [&](std::size_t k) { return static_cast<char>(text[i + k] | 0x20); };
    if (lower(0) == 'j' && lower(1) == 's' && lower(2) == 'o' && lower(3) == 'n') return true;
  }
  return false;
}

Result<ChatRequest> parse_chat_request(const json::value& body, std::string_view server_name) {
  const json::object* object = body.if_object();
  if (object == nullptr) return wrong_type("body", "an object", body);
  for (const auto& [key, value] : *object) {
    if (std::find(kKnownParameters.begin(), kKnownParameters.end(), std::string_view(key)) ==
        kKnownParameters.end()) {
      return invalid("Unrecognized request argument supplied: " + std::string(key));
    }
  }

  ChatRequest request;
  const json::value* model = object->if_contains("model");
  if (model == nullptr) return invalid("you must provide a model parameter");
  if (!model->is_string()) return wrong_type("model", "a string", *model);
  request.model = std::string(model->get_string());

  auto messages = parse_messages(object->if_contains("messages"));
  if (!messages) return messages.error();
  request.messages = std::move(messages.value());

  if (const json::value* stream = object->if_contains("stream"); stream != nullptr && !stream->is_null()) {
    if (!stream->is_bool()) return wrong_type("stream", "a boolean", *stream);
    request.stream = stream->get_bool();
  }
  if (const json::value* options = object->if_contains("stream_options");
      options != nullptr && !options->is_null()) {
    if (!request.stream) {
      return invalid("The 'stream_options' parameter is only allowed when 'stream' is enabled.",
                     "stream_options");
    }
    const json::object* fields = options->if_object();
    if (fields == nullptr) return wrong_type("stream_options", "an object", *options);
    if (const json::value* usage = fields->if_contains("include_usage"); usage != nullptr) {
      if (!usage->is_bool()) return wrong_type("stream_options.include_usage", "a boolean", *usage);
      request.include_usage = usage->get_bool();
    }
  }

  // max_completion_tokens superseded max_tokens; when both are given it wins.
  for (const std::string_view name : {"max_tokens", "max_completion_tokens"}) {
    const json::value* limit = object->if_contains(name);
    if (limit == nullptr || limit->is_null()) continue;
    const auto tokens = as_integer(*limit);
    if (!tokens) return wrong_type(std::string(name), "an integer", *limit);
    if (*tokens < 1) {
      return invalid("Invalid '" + std::string(name) +
                         "': integer below minimum value. Expected a value >= 1, but got " +
                         std::to_string(*tokens) + " instead.",
                     std::string(name), "integer_below_min_value");
    }
    request.max_tokens = static_cast<std::uint32_t>(std::min<std::int64_t>(*tokens, UINT32_MAX));
  }

  auto temperature = parse_bounded_decimal(*object, "temperature", 2);
  if (!temperature) return temperature.error();
  request.temperature = temperature.value();

  if (const json::value* n = object->if_contains("n"); n != nullptr && !n->is_null()) {
    const auto choices = as_integer(*n);
    if (!choices) return wrong_type("n", "an integer", *n);
    if (*choices != 1) {
      return invalid(std::string(server_name) + " supports only n=1.", "n", "unsupported_value");
    }
  }

  auto top_p = parse_bounded_decimal(*object, "top_p", 1);
  if (!top_p) return top_p.error();
  request.top_p = top_p.value();

  if (const json::value* stop = object->if_contains("stop")) {
    auto stops = parse_stop(*stop);
    if (!stops) return stops.error();
    request.stop = std::move(stops.value());
  }

  if (const json::value* format = object->if_contains("response_format")) {
    auto response_format = parse_response_format(*format);
    if (!response_format) return response_format.error();
    request.response_format = response_format.value();
    if (request.response_format == ResponseFormat::kJsonObject && !mentions_json(request.messages)) {
      return invalid(
          "'messages' must contain the word 'json' in some form, to use 'response_format' of type "
          "'json_object'.",
          "messages");
    }
  }
  return request;
}

std::string completion_body(const ResponseIdentity& identity, std::string_view text,
                            std::string_view finish_reason, const Usage& usage) {
  json::object message;
  message["role"] = "assistant";
  message["content"] = text;
  message["refusal"] = nullptr;
  json::object choice;
  choice["index"] = 0;
  choice["message"] = std::move(message);
  choice["logprobs"] = nullptr;
  choice["finish_reason"] = finish_reason;

  json::object body;
  body["id"] = identity.id;
  body["object"] = "chat.completion";
  body["created"] = identity.created;
  body["model"] = identity.model;
  body["system_fingerprint"] = identity.system_fingerprint;
  body["choices"] = json::array{std::move(choice)};
  body["usage"] = usage_object(usage);
  return json::serialize(body);
}

std::string role_event(const ResponseIdentity& identity, bool include_usage) {
  return chunk_event(identity, json::object{{"role", "assistant"}, {"content", ""}}, nullptr, include_usage);
}

std::string content_event(const ResponseIdentity& identity, std::string_view text, bool include_usage) {
  return chunk_event(identity, json::object{{"content", text}}, nullptr, include_usage);
}

std::string finish_event(const ResponseIdentity& identity, std::string_view finish_reason,
                         bool include_usage) {
  return chunk_event(identity, json::object{}, json::string(finish_reason), include_usage);
}

std::string usage_event(const ResponseIdentity& identity, const Usage& usage) {
  json::object chunk = chunk_head(identity);
  chunk["choices"] = json::array{};
  chunk["usage"] = usage_object(usage);
  return data_event(chunk);
}

std::string done_event() {
  return "data: [DONE]\n\n";
}

std::string error_event(std::string_view type, std::string_view message,
                        std::optional<std::string_view> code) {
  json::object error;
  error["message"] = common::repair_utf8(message);
  error["type"] = type;
  error["param"] = nullptr;
  error["code"] = code ? json::value(*code) : json::value(nullptr);
  return data_event(json::object{{"error", std::move(error)}});
}

std::string malformed_event(const ResponseIdentity& identity) {
  std::string text = data_event(chunk_head(identity));
  // Cut inside the object, after an opening brace and a key: unmistakably not JSON.
  text.resize(text.size() - 3);  // drops "}\n\n"
  return text + ",\"choices\":[{\"index\":0,\"delta\":{\"content\":\n\n";
}

std::string error_body(std::string_view message, std::string_view type, std::optional<std::string_view> param,
                       std::optional<std::string_view> code) {
  json::object error;
  // Messages may quote what the client sent (a header value, a path): JSON needs valid UTF-8.
  error["message"] = common::repair_utf8(message);
  error["type"] = type;
  error["param"] = param ? json::value(*param) : json::value(nullptr);
  error["code"] = code ? json::value(*code) : json::value(nullptr);
  return json::serialize(json::object{{"error", std::move(error)}});
}

std::string invalid_request_body(const Error& error) {
  return error_body(error.message, "invalid_request_error", detail_of(error, "param"),
                    detail_of(error, "code"));
}

std::string model_not_found_message(std::string_view model) {
  return "The model `" + std::string(model) + "` does not exist or you do not have access to it.";
}

std::string model_not_found_body(std::string_view model) {
  return error_body(model_not_found_message(model), "invalid_request_error", std::nullopt, "model_not_found");
}

std::string_view error_type_for_status(int status) {
  if (status == 429) return "requests";
  if (status >= 500) return "server_error";
  return "invalid_request_error";
}

std::string error_body_for_status(int status) {
  const std::string_view type = error_type_for_status(status);
  switch (status) {
    case 400:
      return error_body("Bad request.", type, std::nullopt, std::nullopt);
    case 401:
      return error_body("Incorrect API key provided.", type, std::nullopt, "invalid_api_key");
    case 403:
      return error_body("You are not allowed to perform this request.", type, std::nullopt, std::nullopt);
    case 404:
      return error_body("The requested resource was not found.", type, std::nullopt, std::nullopt);
    case 429:
      return error_body("Rate limit reached for requests. Please try again later.", type, std::nullopt,
                        "rate_limit_exceeded");
    case 502:
      return error_body("Bad gateway.", type, std::nullopt, std::nullopt);
    case 503:
      return error_body("The server is overloaded or not ready yet.", type, std::nullopt, std::nullopt);
    case 504:
      return error_body("Gateway timeout.", type, std::nullopt, std::nullopt);
    default:
      break;
  }
  if (status >= 500) return error_body(kServerErrorMessage, type, std::nullopt, std::nullopt);
  return error_body("The request failed with status " + std::to_string(status) + ".", type, std::nullopt,
                    std::nullopt);
}

std::string model_body(const ModelEntry& model) {
  return json::serialize(model_object(model));
}

std::string models_body(const std::vector<ModelEntry>& models) {
  json::array data;
  for (const ModelEntry& model : models) data.push_back(model_object(model));
  json::object body;
  body["object"] = "list";
  body["data"] = std::move(data);
  return json::serialize(body);
}

}  // namespace rally::openai_wire
