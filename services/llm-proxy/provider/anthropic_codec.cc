#include "services/llm-proxy/provider/anthropic_codec.h"

#include <algorithm>
#include <array>
#include <boost/json.hpp>
#include <utility>

#include "services/llm-proxy/provider/json_fields.h"

namespace rally::llm_proxy {
namespace {

using namespace json_fields;

constexpr std::string_view kTurnSeparator = "\n\n";

// The events whose data the decoder reads; every other type (ping, content_block_stop, types added to
// the API later) is skipped without parsing.
constexpr std::array<std::string_view, 6> kDecodedEvents = {
    "message_start", "content_block_start", "content_block_delta", "message_delta", "message_stop", "error",
};

void append_paragraph(std::string& text, std::string_view paragraph) {
  if (!text.empty()) text += kTurnSeparator;
  text += paragraph;
}

// end_turn, stop_sequence and pause_turn (and reasons added later) end the reply normally.
FinishReason finish_reason_from(std::string_view stop_reason) {
  if (stop_reason == "max_tokens") return FinishReason::kLength;
  if (stop_reason == "tool_use") return FinishReason::kToolCalls;
  if (stop_reason == "refusal") return FinishReason::kContentFilter;
  return FinishReason::kStop;
}

// The failure an error object ({"type", "message"}) stands for.
ProviderFailure failure_from_error_object(const json::object& error) {
  ProviderFailure failure;
  const std::string_view type = string_at(error, "type").value_or("");
  failure.kind = anthropic_error_kind(type);
  failure.message = std::string(string_at(error, "message").value_or(""));
  if (failure.message.empty()) {
    failure.message = "the provider reported " + (type.empty() ? std::string("an error") : std::string(type));
  }
  return failure;
}

}  // namespace

std::string anthropic_request_body(const ChatCompletion& completion) {
  std::string system;
  json::array messages;
  std::string_view last_role;
  for (const ChatTurn& turn : completion.turns) {
    if (turn.role == ChatRole::kSystem) {
      if (!turn.content.empty()) append_paragraph(system, turn.content);
      continue;
    }
    if (turn.content.empty()) continue;
    const std::string_view role = turn.role == ChatRole::kAssistant ? "assistant" : "user";
    if (role == last_role) {
      json::string& content = messages.back().as_object()["content"].as_string();
      content.append(kTurnSeparator);
      content.append(turn.content);
      continue;
    }
    messages.push_back(json::object{{"role", role}, {"content", turn.content}});
    last_role = role;
  }
  if (completion.json_mode) append_paragraph(system, kAnthropicJsonModeInstruction);

  json::object body;
  body["model"] = completion.upstream_model;
  body["max_tokens"] = completion.max_tokens;
  if (!system.empty()) body["system"] = system;
  body["messages"] = std::move(messages);
  if (json_fields::is_sendable(completion.temperature)) {
    body["temperature"] = std::clamp(*completion.temperature, 0.0, 1.0);
  }
  if (json_fields::is_sendable(completion.top_p)) body["top_p"] = *completion.top_p;
  if (!completion.stop.empty()) {
    json::array stop_sequences;
    for (const std::string& sequence : completion.stop) stop_sequences.emplace_back(sequence);
    body["stop_sequences"] = std::move(stop_sequences);
  }
  if (completion.stream) body["stream"] = true;
  return json::serialize(body);
}

HttpHeaders anthropic_request_headers(std::string_view api_key, bool stream) {
  HttpHeaders headers;
  if (!api_key.empty()) headers.push_back({"x-api-key", std::string(api_key)});
  headers.push_back({"anthropic-version", std::string(kAnthropicVersion)});
  headers.push_back({"content-type", "application/json"});
  if (stream) headers.push_back({"accept", "text/event-stream"});
  return headers;
}

StreamStep AnthropicStreamDecoder::decode(const SseEvent& event) {
  StreamStep step;
  std::string_view name = event.type;
  std::optional<json::value> value;
  std::string parse_error;
  if (name == "message") {  // no `event:` line: the data's "type" names the event
    value = json_fields::parse(event.data, parse_error);
    if (!value) {
      step.failure = protocol_failure("malformed JSON in an unnamed stream event: " + parse_error);
      return step;
    }
    const json::object* object = value->if_object();
    name = object == nullptr ? std::string_view() : string_at(*object, "type").value_or("");
  }
  if (std::find(kDecodedEvents.begin(), kDecodedEvents.end(), name) == kDecodedEvents.end()) return step;
  if (!value) value = json_fields::parse(event.data, parse_error);
  if (!value) {
    step.failure = protocol_failure("malformed JSON in a " + std::string(name) + " event: " + parse_error);
    return step;
  }
  const json::object* data = value->if_object();
  if (data == nullptr) {
    step.failure = protocol_failure("a " + std::string(name) + " event's data is not a JSON object");
    return step;
  }

  if (name == "message_start") {
    const json::object* message = object_at(*data, "message");
    if (message == nullptr) {
      step.failure = protocol_failure("a message_start event without a message");
      return step;
    }
    finish_.upstream_id = std::string(string_at(*message, "id").value_or(""));
    if (const json::object* usage = object_at(*message, "usage")) {
      input_tokens_ = token_count_at(*usage, "input_tokens");
      output_tokens_ = token_count_at(*usage, "output_tokens");
    }
  } else if (name == "content_block_start") {
    // The API opens text blocks empty, but nothing forbids a first piece of text here.
    if (const json::object* block = object_at(*data, "content_block");
        block != nullptr && string_at(*block, "type") == "text") {
      step.text = std::string(string_at(*block, "text").value_or(""));
    }
  } else if (name == "content_block_delta") {
    const json::object* delta = object_at(*data, "delta");
    if (delta == nullptr) {
      step.failure = protocol_failure("a content_block_delta event without a delta");
      return step;
    }
    // Other delta types (input_json_delta, thinking_delta, signature_delta) carry no reply text.
    if (string_at(*delta, "type") == "text_delta") {
      const auto text = string_at(*delta, "text");
      if (!text) {
        step.failure = protocol_failure("a text_delta without text");
        return step;
      }
      step.text = std::string(*text);
    }
  } else if (name == "message_delta") {
    if (const json::object* delta = object_at(*data, "delta")) {
      if (const auto reason = string_at(*delta, "stop_reason")) finish_.reason = finish_reason_from(*reason);
    }
    if (const json::object* usage = object_at(*data, "usage")) {
      // Cumulative: the last message_delta has the total.
      if (const auto output = token_count_at(*usage, "output_tokens")) output_tokens_ = output;
      if (const auto input = token_count_at(*usage, "input_tokens")) input_tokens_ = input;
    }
  } else if (name == "message_stop") {
    done_ = true;
  } else if (name == "error") {
    const json::object* error = object_at(*data, "error");
    step.failure = error == nullptr ? protocol_failure("an error event without an error object")
                                    : failure_from_error_object(*error);
  }
  return step;
}

ProviderFinish AnthropicStreamDecoder::finish() const {
  ProviderFinish finish = finish_;
  if (input_tokens_ || output_tokens_) {
    finish.usage = TokenUsage{input_tokens_.value_or(0), output_tokens_.value_or(0)};
  }
  return finish;
}

AnswerOrFailure parse_anthropic_response(std::string_view body) {
  return read_response_object(body, [](const json::object& message) -> AnswerOrFailure {
    if (string_at(message, "type") == "error") {
      const json::object* error = object_at(message, "error");
      if (error == nullptr) return protocol_failure("an error response without an error object");
      return failure_from_error_object(*error);
    }
    const json::value* content = message.if_contains("content");
    const json::array* blocks = content == nullptr ? nullptr : content->if_array();
    if (blocks == nullptr) return protocol_failure("the response has no content array");

    ProviderAnswer answer;
    for (const json::value& block : *blocks) {
      const json::object* fields = block.if_object();
      if (fields == nullptr || string_at(*fields, "type") != "text") continue;
      answer.text += string_at(*fields, "text").value_or("");
    }
    if (const auto reason = string_at(message, "stop_reason"))
      answer.finish.reason = finish_reason_from(*reason);
    if (const json::object* usage = object_at(message, "usage")) {
      answer.finish.usage = TokenUsage{token_count_at(*usage, "input_tokens").value_or(0),
                                       token_count_at(*usage, "output_tokens").value_or(0)};
    }
    answer.finish.upstream_id = std::string(string_at(message, "id").value_or(""));
    return answer;
  });
}

ProviderFailure parse_anthropic_error(int status, std::string_view body, const HttpHeaders& headers) {
  return error_status_failure(status, body, headers, [](const json::object& object) {
    return error_object_message(object).value_or("");
  });
}

FailureKind anthropic_error_kind(std::string_view type) {
  if (type == "rate_limit_error") return FailureKind::kRateLimited;
  if (type == "invalid_request_error" || type == "authentication_error" || type == "permission_error" ||
      type == "not_found_error" || type == "request_too_large" || type == "billing_error") {
    return FailureKind::kClientError;
  }
  // overloaded_error, api_error, timeout_error and anything newer.
  return FailureKind::kServerError;
}

}  // namespace rally::llm_proxy
