#include "services/llm-proxy/provider/openai_codec.h"

#include <algorithm>
#include <boost/json.hpp>
#include <utility>

#include "services/llm-proxy/provider/json_fields.h"
#include "services/llm-proxy/wire/openai_wire.h"

namespace rally::llm_proxy {
namespace {

using namespace json_fields;

// Added as the first message in JSON mode when no message mentions JSON: OpenAI refuses
// response_format json_object otherwise ("'messages' must contain the word 'json'"), and its guide
// asks for the instruction anyway, since without it a model may emit whitespace until the token limit.
constexpr std::string_view kJsonModeInstruction = "Respond with a single JSON object.";

std::string_view role_name(ChatRole role) {
  switch (role) {
    case ChatRole::kSystem:
      return "system";
    case ChatRole::kUser:
      return "user";
    case ChatRole::kAssistant:
      return "assistant";
  }
  return "user";
}

bool mentions_json(const std::vector<ChatTurn>& turns) {
  return std::any_of(turns.begin(), turns.end(),
                     [](const ChatTurn& turn) { return openai_wire::mentions_json(turn.content); });
}

// Unknown reasons (a compatible server's "eos") still mean the reply ended normally.
FinishReason finish_reason_from(std::string_view name) {
  if (name == "length") return FinishReason::kLength;
  if (name == "content_filter") return FinishReason::kContentFilter;
  if (name == "tool_calls" || name == "function_call") return FinishReason::kToolCalls;
  return FinishReason::kStop;
}

std::optional<TokenUsage> usage_from(const json::object& owner) {
  const json::object* usage = object_at(owner, "usage");
  if (usage == nullptr) return std::nullopt;
  return TokenUsage{token_count_at(*usage, "prompt_tokens").value_or(0),
                    token_count_at(*usage, "completion_tokens").value_or(0)};
}

// `code` may be a string, a number (vLLM sends the HTTP status) or null.
std::string code_text(const json::object& error) {
  const json::value* code = error.if_contains("code");
  if (code == nullptr || code->is_null()) return {};
  if (code->is_string()) return std::string(code->get_string());
  return json::serialize(*code);
}

// The failure an {"error": ...} value stands for; `error` is an object, or a bare message string as some
// compatible servers send.
ProviderFailure failure_from_error_value(const json::value& error) {
  ProviderFailure failure;
  if (error.is_string()) {
    failure.kind = FailureKind::kServerError;
    failure.message = std::string(error.get_string());
  } else if (const json::object* fields = error.if_object()) {
    failure.kind = openai_error_kind(string_at(*fields, "type").value_or(""), code_text(*fields));
    failure.message = std::string(string_at(*fields, "message").value_or(""));
  } else {
    return protocol_failure("the provider sent an \"error\" that is neither an object nor a string");
  }
  if (failure.message.empty()) failure.message = "the provider reported an error without a message";
  return failure;
}

// Reads one choice of a chunk (only choice 0 counts: the proxy asks for n = 1).
std::optional<ProviderFailure> read_stream_choice(const json::value& value, std::string& text,
                                                  ProviderFinish& finish) {
  const json::object* choice = value.if_object();
  if (choice == nullptr) return protocol_failure("a stream chunk's choice is not an object");
  if (const json::value* index = choice->if_contains("index");
      index != nullptr && !(index->is_number() && index->to_number<double>() == 0)) {
    return std::nullopt;
  }
  if (const json::value* delta = choice->if_contains("delta"); delta != nullptr && !delta->is_null()) {
    const json::object* fields = delta->if_object();
    if (fields == nullptr) return protocol_failure("a stream chunk's delta is not an object");
    if (const json::value* content = fields->if_contains("content");
        content != nullptr && !content->is_null()) {
      if (!content->is_string()) return protocol_failure("a stream chunk's delta.content is not a string");
      text.append(content->get_string());
    }
  }
  if (const auto reason = string_at(*choice, "finish_reason")) finish.reason = finish_reason_from(*reason);
  return std::nullopt;
}

// The message of an error body: {"error": {"message"}} (OpenAI and most servers), {"error": "..."} (Ollama),
// {"object": "error", "message"} (vLLM) or {"detail"} (FastAPI servers); empty when it has none.
std::string_view error_body_message(const json::object& body) {
  if (const auto message = error_object_message(body)) return *message;
  if (const auto text = string_at(body, "error")) return *text;
  if (const auto top = string_at(body, "message")) return *top;
  if (const auto detail = string_at(body, "detail")) return *detail;
  return {};
}

}  // namespace

std::string openai_request_body(const ChatCompletion& completion, OpenAiDialect dialect) {
  json::object body;
  body["model"] = completion.upstream_model;
  json::array messages;
  if (completion.json_mode && !mentions_json(completion.turns)) {
    messages.push_back(json::object{{"role", "system"}, {"content", kJsonModeInstruction}});
  }
  for (const ChatTurn& turn : completion.turns) {
    messages.push_back(json::object{{"role", role_name(turn.role)}, {"content", turn.content}});
  }
  body["messages"] = std::move(messages);
  if (json_fields::is_sendable(completion.temperature)) body["temperature"] = *completion.temperature;
  if (json_fields::is_sendable(completion.top_p)) body["top_p"] = *completion.top_p;
  body[dialect == OpenAiDialect::kOpenAi ? "max_completion_tokens" : "max_tokens"] = completion.max_tokens;
  if (!completion.stop.empty()) {
    json::array stop;
    for (const std::string& sequence : completion.stop) stop.emplace_back(sequence);
    body["stop"] = std::move(stop);
  }
  if (completion.json_mode) body["response_format"] = json::object{{"type", "json_object"}};
  if (completion.stream) {
    body["stream"] = true;
    body["stream_options"] = json::object{{"include_usage", true}};
  }
  return json::serialize(body);
}

HttpHeaders openai_request_headers(std::string_view api_key, bool stream) {
  HttpHeaders headers;
  if (!api_key.empty()) headers.push_back({"Authorization", "Bearer " + std::string(api_key)});
  headers.push_back({"Content-Type", "application/json"});
  if (stream) headers.push_back({"Accept", "text/event-stream"});
  return headers;
}

StreamStep OpenAiStreamDecoder::decode(const SseEvent& event) {
  StreamStep step;
  std::string_view data = event.data;
  while (!data.empty() && (data.back() == ' ' || data.back() == '\n')) data.remove_suffix(1);
  if (data == "[DONE]") {
    done_ = true;
    return step;
  }
  std::string parse_error;
  const auto value = json_fields::parse(data, parse_error);
  if (!value) {
    step.failure = protocol_failure("malformed JSON in a stream event: " + parse_error);
    return step;
  }
  const json::object* chunk = value->if_object();
  if (chunk == nullptr) {
    step.failure = protocol_failure("a stream event is not a JSON object");
    return step;
  }
  if (const json::value* error = chunk->if_contains("error"); error != nullptr && !error->is_null()) {
    step.failure = failure_from_error_value(*error);
    return step;
  }
  if (const auto id = string_at(*chunk, "id"); id && finish_.upstream_id.empty()) {
    finish_.upstream_id = std::string(*id);
  }
  if (const json::value* choices = chunk->if_contains("choices"); choices != nullptr && !choices->is_null()) {
    const json::array* list = choices->if_array();
    if (list == nullptr) {
      step.failure = protocol_failure("a stream chunk's choices is not an array");
      return step;
    }
    for (const json::value& choice : *list) {
      if (auto failure = read_stream_choice(choice, step.text, finish_)) {
        step.text.clear();
        step.failure = std::move(failure);
        return step;
      }
    }
  }
  if (auto usage = usage_from(*chunk)) finish_.usage = usage;
  return step;
}

AnswerOrFailure parse_openai_response(std::string_view body) {
  return read_response_object(body, [](const json::object& response) -> AnswerOrFailure {
    if (const json::value* error = response.if_contains("error"); error != nullptr && !error->is_null()) {
      return failure_from_error_value(*error);
    }
    const json::value* choices = response.if_contains("choices");
    const json::array* list = choices == nullptr ? nullptr : choices->if_array();
    const json::object* choice = list == nullptr || list->empty() ? nullptr : list->front().if_object();
    const json::object* message = choice == nullptr ? nullptr : object_at(*choice, "message");
    if (message == nullptr) return protocol_failure("the response has no choices[0].message");

    ProviderAnswer answer;
    if (const json::value* content = message->if_contains("content");
        content != nullptr && !content->is_null()) {
      if (!content->is_string()) return protocol_failure("the response's message content is not a string");
      answer.text = std::string(content->get_string());
    }
    if (const auto reason = string_at(*choice, "finish_reason"))
      answer.finish.reason = finish_reason_from(*reason);
    answer.finish.usage = usage_from(response);
    answer.finish.upstream_id = std::string(string_at(response, "id").value_or(""));
    return answer;
  });
}

ProviderFailure parse_openai_error(int status, std::string_view body, const HttpHeaders& headers) {
  return error_status_failure(status, body, headers, error_body_message);
}

FailureKind openai_error_kind(std::string_view type, std::string_view code) {
  if (code == "rate_limit_exceeded" || type == "requests" || type == "tokens" || type == "rate_limit_error") {
    return FailureKind::kRateLimited;
  }
  if (type == "invalid_request_error" || type == "authentication_error" || type == "permission_error" ||
      type == "not_found_error") {
    return FailureKind::kClientError;
  }
  return FailureKind::kServerError;
}

}  // namespace rally::llm_proxy
