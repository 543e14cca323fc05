#include "gateway/routes/llm_payloads.h"

#include <algorithm>
#include <boost/json.hpp>
#include <cmath>
#include <cstdio>

#include "gateway/http/json_body.h"

namespace rally::gateway::routes {
namespace {

namespace json = boost::json;
using common::Error;
using common::ErrorCode;

constexpr std::string_view kSimulatorOwner = "llamarally-simulator";

bool is_blank(std::string_view text) {
  return std::all_of(text.begin(), text.end(), [](char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
  });
}

json::object usage_object(const v1::Usage& usage) {
  return json::object{
      {"prompt_tokens", usage.prompt_tokens()}, {"completion_tokens", usage.completion_tokens()},
      {"total_tokens", usage.total_tokens()},   {"estimated", usage.estimated()},
      {"cost_usd", usage.cost_usd()},
  };
}

// Microseconds are the finest figure worth showing; rounding also drops float noise from the JSON.
double rounded(double value) {
  return std::round(value * 1000) / 1000;
}

json::object timing_object(const v1::Timing& timing) {
  return json::object{
      {"time_to_first_token_ms", rounded(to_milliseconds(timing.time_to_first_token()))},
      {"total_ms", rounded(to_milliseconds(timing.total()))},
      {"upstream_ms", rounded(to_milliseconds(timing.upstream()))},
      {"tokens_per_second", rounded(timing.tokens_per_second())},
      {"attempts", timing.attempts()},
  };
}

std::optional<std::string> detail_of(const Error& error, std::string_view key) {
  for (const auto& [name, value] : error.details) {
    if (name == key) return value;
  }
  return std::nullopt;
}

std::string lower_case(std::string_view text) {
  std::string lower(text);
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; });
  return lower;
}

Error unsupported_role(std::size_t index, std::string_view role) {
  const std::string param = "messages[" + std::to_string(index) + "].role";
  return Error(ErrorCode::kInvalidRequest,
               "Invalid value: '" + std::string(role) +
                   "'. LlamaRally does not support tool calls; supported roles are 'system', 'developer', "
                   "'user' and 'assistant'.",
               {{"param", param}, {"code", "unsupported_value"}});
}

}  // namespace

common::Result<SimpleLlmRequest> parse_simple_request(std::string_view body) {
  common::Result<json::value> result = http::parse_json_body(body);
  if (!result.ok()) return result.error();
  const json::object* object = result.value().if_object();
  if (object == nullptr) return Error(ErrorCode::kInvalidRequest, "The request body must be a JSON object");

  const json::value* message = object->if_contains("message");
  if (message == nullptr || !message->is_string() || is_blank(message->get_string())) {
    return Error(ErrorCode::kInvalidRequest, "Message is required", {{"field", "message"}});
  }
  SimpleLlmRequest request{std::string(message->get_string()), std::string(kDefaultModel)};
  if (const json::value* model = object->if_contains("model"); model != nullptr && !model->is_null()) {
    if (!model->is_string()) {
      return Error(ErrorCode::kInvalidRequest, "Model must be a string", {{"field", "model"}});
    }
    request.model = std::string(model->get_string());
  }
  return request;
}

v1::CompleteRequest complete_request_for(const SimpleLlmRequest& request) {
  v1::CompleteRequest complete;
  complete.set_model(request.model);
  v1::ChatMessage* message = complete.add_messages();
  message->set_role(v1::CHAT_ROLE_USER);
  message->set_content(request.message);
  complete.set_caller(std::string(kCaller));
  return complete;
}

std::string simple_response_body(std::string_view message, const v1::CompleteResponse& response) {
  json::object body;
  body["message"] = message;
  body["response"] = response.text();
  body["model"] = response.model();
  body["served_by"] = response.served_by();
  body["finish_reason"] = finish_reason_name(response.finish_reason());
  body["usage"] = usage_object(response.usage());
  body["simulated"] = response.simulated();
  body["id"] = response.id();
  return json::serialize(body);
}

std::string sse_delta_event(std::string_view text, std::string_view model) {
  return "data: " + json::serialize(json::object{{"delta", text}, {"model", model}}) + "\n\n";
}

std::string sse_done_event(const v1::StreamCompleteResponse::End& end, double overhead_ms) {
  json::object data;
  data["finish_reason"] = finish_reason_name(end.finish_reason());
  data["usage"] = usage_object(end.usage());
  data["served_by"] = end.served_by();
  data["model"] = end.model();
  data["id"] = end.id();
  data["simulated"] = end.simulated();
  data["timing"] = timing_object(end.timing());
  data["overhead_ms"] = rounded(overhead_ms);
  return "event: done\ndata: " + json::serialize(data) + "\n\n";
}

std::string sse_error_event(const Error& error) {
  const json::object data{{"code", common::info(error.code).rest_code}, {"message", error.message}};
  return "event: error\ndata: " + json::serialize(data) + "\n\n";
}

common::Result<v1::CompleteRequest> complete_request_for(const openai_wire::ChatRequest& chat) {
  v1::CompleteRequest complete;
  complete.set_model(chat.model);
  for (std::size_t i = 0; i < chat.messages.size(); ++i) {
    const openai_wire::Message& message = chat.messages[i];
    v1::ChatRole role = v1::CHAT_ROLE_UNSPECIFIED;
    if (message.role == "system" || message.role == "developer") {
      role = v1::CHAT_ROLE_SYSTEM;
    } else if (message.role == "user") {
      role = v1::CHAT_ROLE_USER;
    } else if (message.role == "assistant") {
      role = v1::CHAT_ROLE_ASSISTANT;
    } else {
      return unsupported_role(i, message.role);
    }
    v1::ChatMessage* turn = complete.add_messages();
    turn->set_role(role);
    turn->set_content(message.text);
  }
  if (chat.temperature) complete.set_temperature(*chat.temperature);
  if (chat.top_p) complete.set_top_p(*chat.top_p);
  if (chat.max_tokens) complete.set_max_tokens(*chat.max_tokens);
  for (const std::string& stop : chat.stop) complete.add_stop(stop);
  switch (chat.response_format) {
    case openai_wire::ResponseFormat::kUnspecified:
      break;
    case openai_wire::ResponseFormat::kText:
      complete.set_response_format(v1::RESPONSE_FORMAT_TEXT);
      break;
    case openai_wire::ResponseFormat::kJsonObject:
    case openai_wire::ResponseFormat::kJsonSchema:
      // The schema is not enforced: the model is asked for JSON, as in json_object mode.
      complete.set_response_format(v1::RESPONSE_FORMAT_JSON_OBJECT);
      break;
  }
  complete.set_caller(std::string(kCaller));
  return complete;
}

std::string_view finish_reason_name(v1::FinishReason reason) {
  switch (reason) {
    case v1::FINISH_REASON_LENGTH:
      return "length";
    case v1::FINISH_REASON_CONTENT_FILTER:
      return "content_filter";
    case v1::FINISH_REASON_TOOL_CALLS:
      return "tool_calls";
    default:
      return "stop";
  }
}

openai_wire::Usage openai_usage(const v1::Usage& usage) {
  return {usage.prompt_tokens(), usage.completion_tokens(), usage.total_tokens()};
}

std::string_view model_owner(const v1::Model& model) {
  if (model.simulated()) return kSimulatorOwner;
  switch (model.provider()) {
    case v1::PROVIDER_KIND_OPENAI:
      return "openai";
    case v1::PROVIDER_KIND_ANTHROPIC:
      return "anthropic";
    case v1::PROVIDER_KIND_OPENAI_COMPATIBLE:
      return "openai-compatible";
    default:
      return "llamarally";
  }
}

std::vector<openai_wire::ModelEntry> openai_models(const v1::ListModelsResponse& response) {
  std::vector<openai_wire::ModelEntry> entries;
  for (const v1::Model& model : response.models()) {
    // The catalog has no creation dates; 0 says "unknown" without inventing one.
    if (model.enabled()) entries.push_back({model.name(), 0, std::string(model_owner(model))});
  }
  return entries;
}

std::string OpenAiError::body() const {
  return openai_wire::error_body(message, type, param, code);
}

std::string OpenAiError::event() const {
  return openai_wire::error_event(type, message, code);
}

OpenAiError openai_error_for(const Error& error, std::string_view model) {
  const bool unknown_model =
      error.code == ErrorCode::kModelNotFound ||
      (error.code == ErrorCode::kInvalidRequest && detail_of(error, "available_models"));
  if (unknown_model) {
    return {404, "invalid_request_error", openai_wire::model_not_found_message(model), std::nullopt,
            "model_not_found"};
  }
  if (error.code == ErrorCode::kInvalidRequest) {
    return {400, "invalid_request_error", error.message, detail_of(error, "field"), std::nullopt};
  }
  const common::ErrorCodeInfo& row = common::info(error.code);
  return {row.http_status, std::string(openai_wire::error_type_for_status(row.http_status)), error.message,
          std::nullopt, lower_case(row.rest_code)};
}

double to_milliseconds(const google::protobuf::Duration& duration) {
  return static_cast<double>(duration.seconds()) * 1e3 + static_cast<double>(duration.nanos()) / 1e6;
}

double overhead_ms(std::chrono::steady_clock::duration elapsed, const google::protobuf::Duration& upstream) {
  const double elapsed_ms = std::chrono::duration<double, std::milli>(elapsed).count();
  return std::max(0.0, elapsed_ms - to_milliseconds(upstream));
}

std::string format_milliseconds(double milliseconds) {
  char text[32];
  std::snprintf(text, sizeof text, "%.2f", milliseconds);
  return text;
}

}  // namespace rally::gateway::routes
