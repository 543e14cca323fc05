// The Anthropic wire format, client side: request bodies field by field (system hoisting, merged turns,
// the temperature clamp, JSON mode as an instruction), headers, the stream decoder on every event type
// (also split at every byte), whole responses and error bodies.
#include "services/llm-proxy/provider/anthropic_codec.h"

#include <boost/json.hpp>
#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "tests/unit/llm-proxy/provider/codec_checks.h"

namespace rally::llm_proxy {
namespace {

namespace json = boost::json;
using namespace testing;  // codec_checks.h
using namespace std::chrono_literals;

ChatCompletion completion_of(std::vector<ChatTurn> turns) {
  ChatCompletion completion;
  completion.upstream_model = "claude-3-5-haiku-latest";
  completion.turns = std::move(turns);
  completion.max_tokens = 300;
  completion.stream = false;
  return completion;
}

json::object body_of(const ChatCompletion& completion) {
  return json::parse(anthropic_request_body(completion)).as_object();
}

std::string event(std::string_view name, std::string_view data) {
  return "event: " + std::string(name) + "\ndata: " + std::string(data) + "\n\n";
}

// A stream as the API (and the simulator) sends it.
const std::string kStream =
    event(
        "message_start",
        R"({"type":"message_start","message":{"id":"msg_01abc","type":"message","role":"assistant","content":[],"model":"claude-3-5-haiku-latest","stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":12,"output_tokens":1}}})") +
    event("content_block_start",
          R"({"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}})") +
    "event: ping\ndata: {\"type\": \"ping\"}\n\n" +
    event("content_block_delta",
          R"({"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Bright river"}})") +
    event("content_block_delta",
          "{\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\" "
          "caf\xC3\xA9s.\"}}") +
    event("content_block_stop", R"({"type":"content_block_stop","index":0})") +
    event(
        "message_delta",
        R"({"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},"usage":{"output_tokens":4}})") +
    event("message_stop", R"({"type":"message_stop"})");

std::string stream_with_stop_reason(std::string_view reason) {
  return event("message_delta", R"({"type":"message_delta","delta":{"stop_reason":")" + std::string(reason) +
                                    R"("},"usage":{"output_tokens":9}})") +
         event("message_stop", R"({"type":"message_stop"})");
}

TEST_CASE("anthropic_request_body: model, max_tokens, messages and parameters") {
  ChatCompletion completion = completion_of({{ChatRole::kUser, "Name three rivers."},
                                             {ChatRole::kAssistant, "Nile, Amazon, Yangtze."},
                                             {ChatRole::kUser, "Two more."}});
  completion.temperature = 0.5;
  completion.top_p = 0.9;
  completion.stop = {"END", "\n\nHuman:"};
  const json::object body = body_of(completion);
  CHECK(keys_of(body) == std::vector<std::string>{"model", "max_tokens", "messages", "temperature", "top_p",
                                                  "stop_sequences"});
  CHECK(body.at("model") == "claude-3-5-haiku-latest");
  CHECK(body.at("max_tokens").to_number<int>() == 300);
  CHECK(body.at("messages") == messages({{"user", "Name three rivers."},
                                         {"assistant", "Nile, Amazon, Yangtze."},
                                         {"user", "Two more."}}));
  CHECK(body.at("temperature").as_double() == 0.5);
  CHECK(body.at("top_p").as_double() == 0.9);
  CHECK(body.at("stop_sequences") == json::array{"END", "\n\nHuman:"});
}

TEST_CASE("anthropic_request_body: only max_tokens is always there, stream when streaming") {
  ChatCompletion completion = completion_of({{ChatRole::kUser, "Hi"}});
  CHECK(keys_of(body_of(completion)) == std::vector<std::string>{"model", "max_tokens", "messages"});
  completion.stream = true;
  const json::object body = body_of(completion);
  CHECK(keys_of(body) == std::vector<std::string>{"model", "max_tokens", "messages", "stream"});
  CHECK(body.at("stream") == true);
}

TEST_CASE("anthropic_request_body hoists system turns into the top-level system prompt") {
  const json::object body = body_of(completion_of({{ChatRole::kSystem, "You are terse."},
                                                   {ChatRole::kUser, "Name a river."},
                                                   {ChatRole::kAssistant, "Nile."},
                                                   {ChatRole::kSystem, "Answer in French."},
                                                   {ChatRole::kUser, "Another."}}));
  CHECK(body.at("system") == "You are terse.\n\nAnswer in French.");
  CHECK(body.at("messages") ==
        messages({{"user", "Name a river."}, {"assistant", "Nile."}, {"user", "Another."}}));
}

TEST_CASE("anthropic_request_body merges consecutive turns of one role, as the API needs alternation") {
  SECTION("adjacent turns") {
    const json::object body = body_of(completion_of({{ChatRole::kUser, "First."},
                                                     {ChatRole::kUser, "Second."},
                                                     {ChatRole::kAssistant, "A."},
                                                     {ChatRole::kAssistant, "B."},
                                                     {ChatRole::kUser, "Third."}}));
    CHECK(body.at("messages") ==
          messages({{"user", "First.\n\nSecond."}, {"assistant", "A.\n\nB."}, {"user", "Third."}}));
  }
  SECTION("turns that become adjacent once the system turn between them is hoisted") {
    const json::object body = body_of(completion_of(
        {{ChatRole::kUser, "First."}, {ChatRole::kSystem, "Be kind."}, {ChatRole::kUser, "Second."}}));
    CHECK(body.at("system") == "Be kind.");
    CHECK(body.at("messages") == messages({{"user", "First.\n\nSecond."}}));
  }
  SECTION("empty turns are dropped (the API rejects empty content)") {
    const json::object body = body_of(completion_of({{ChatRole::kSystem, ""},
                                                     {ChatRole::kUser, "Hi."},
                                                     {ChatRole::kAssistant, ""},
                                                     {ChatRole::kUser, "Anyone?"}}));
    CHECK_FALSE(body.contains("system"));
    CHECK(body.at("messages") == messages({{"user", "Hi.\n\nAnyone?"}}));
  }
}

TEST_CASE("anthropic_request_body clamps temperature to Anthropic's range, 0 to 1") {
  const auto temperature_sent = [](double temperature) {
    ChatCompletion completion = completion_of({{ChatRole::kUser, "Hi"}});
    completion.temperature = temperature;
    return body_of(completion).at("temperature").as_double();
  };
  CHECK(temperature_sent(0.0) == 0.0);
  CHECK(temperature_sent(0.3) == 0.3);
  CHECK(temperature_sent(1.0) == 1.0);
  CHECK(temperature_sent(1.7) == 1.0);
  CHECK(temperature_sent(2.0) == 1.0);
  CHECK(temperature_sent(-0.5) == 0.0);
  ChatCompletion nan = completion_of({{ChatRole::kUser, "Hi"}});
  nan.temperature = std::numeric_limits<double>::quiet_NaN();
  CHECK_FALSE(body_of(nan).contains("temperature"));
}

TEST_CASE("JSON mode becomes an instruction at the end of the system prompt") {
  SECTION("after the caller's system prompt") {
    ChatCompletion completion =
        completion_of({{ChatRole::kSystem, "You are a strict critic."}, {ChatRole::kUser, "Rate this."}});
    completion.json_mode = true;
    const json::object body = body_of(completion);
    CHECK(body.at("system").as_string() ==
          "You are a strict critic.\n\n" + std::string(kAnthropicJsonModeInstruction));
    CHECK_FALSE(body.contains("response_format"));  // the API has no such field and would refuse it
  }
  SECTION("alone when there is none") {
    ChatCompletion completion = completion_of({{ChatRole::kUser, "Rate this."}});
    completion.json_mode = true;
    CHECK(body_of(completion).at("system").as_string() == kAnthropicJsonModeInstruction);
  }
}

TEST_CASE("anthropic_request_headers") {
  CHECK(anthropic_request_headers("sk-ant", false) == HttpHeaders{{"x-api-key", "sk-ant"},
                                                                  {"anthropic-version", "2023-06-01"},
                                                                  {"content-type", "application/json"}});
  CHECK(anthropic_request_headers("sk-ant", true) == HttpHeaders{{"x-api-key", "sk-ant"},
                                                                 {"anthropic-version", "2023-06-01"},
                                                                 {"content-type", "application/json"},
                                                                 {"accept", "text/event-stream"}});
  CHECK(anthropic_request_headers("", false) ==
        HttpHeaders{{"anthropic-version", "2023-06-01"}, {"content-type", "application/json"}});
}

TEST_CASE("AnthropicStreamDecoder: deltas, stop reason, usage and id of a whole stream") {
  // Usage: input from message_start, output from message_delta (cumulative: it replaces message_start's 1).
  check_complete(decode_stream<AnthropicStreamDecoder>(kStream), {"Bright river", " caf\xC3\xA9s."},
                 {FinishReason::kStop, TokenUsage{12, 4}, "msg_01abc"});
}

TEST_CASE("AnthropicStreamDecoder gives the same result however the bytes are split") {
  check_split_anywhere<AnthropicStreamDecoder>(kStream);
}

TEST_CASE("AnthropicStreamDecoder: stop reasons") {
  const auto reason_of = [](std::string_view reason) {
    const auto decoded = decode_stream<AnthropicStreamDecoder>(stream_with_stop_reason(reason));
    CHECK(decoded.finished);
    return decoded.finish.reason;
  };
  CHECK(reason_of("end_turn") == FinishReason::kStop);
  CHECK(reason_of("stop_sequence") == FinishReason::kStop);
  CHECK(reason_of("max_tokens") == FinishReason::kLength);
  CHECK(reason_of("tool_use") == FinishReason::kToolCalls);
  CHECK(reason_of("refusal") == FinishReason::kContentFilter);
  // Only message_delta had usage: output tokens known, input tokens 0.
  CHECK(decode_stream<AnthropicStreamDecoder>(stream_with_stop_reason("end_turn")).finish.usage ==
        TokenUsage{0, 9});
  // No usage anywhere: none reported.
  const auto bare =
      decode_stream<AnthropicStreamDecoder>(event("message_stop", R"({"type":"message_stop"})"));
  CHECK(bare.finished);
  CHECK_FALSE(bare.finish.usage);
}

TEST_CASE("AnthropicStreamDecoder ignores ping, content_block_stop and event types it does not know") {
  const std::string stream =
      event("ping", "{\"type\": \"ping\"}") + event("future_event", "this is not even JSON") +
      event("content_block_stop", "{broken") +
      event("content_block_delta",
            R"({"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"a"}})") +
      // A tool block's JSON and thinking are not reply text.
      event(
          "content_block_delta",
          R"({"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"{\"x"}})") +
      event(
          "content_block_delta",
          R"({"type":"content_block_delta","index":2,"delta":{"type":"thinking_delta","thinking":"hmm"}})") +
      event("ping", "{\"type\": \"ping\"}") + event("message_stop", R"({"type":"message_stop"})");
  const auto decoded = decode_stream<AnthropicStreamDecoder>(stream);
  CHECK(decoded.deltas == std::vector<std::string>{"a"});
  CHECK_FALSE(decoded.failure);
  CHECK(decoded.finished);
}

TEST_CASE("AnthropicStreamDecoder reads events without an event line by their data's type") {
  const std::string stream =
      "data: "
      "{\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"x\"}}\n\n"
      "data: {\"type\":\"ping\"}\n\n"
      "data: {\"type\":\"message_stop\"}\n\n";
  const auto decoded = decode_stream<AnthropicStreamDecoder>(stream);
  CHECK(decoded.deltas == std::vector<std::string>{"x"});
  CHECK(decoded.finished);
  // Unnamed data that is not JSON cannot be told apart from a broken event.
  CHECK(decode_stream<AnthropicStreamDecoder>("data: nope\n\n").failure->kind == FailureKind::kProtocolError);
}

TEST_CASE("AnthropicStreamDecoder: error events are the provider's failure") {
  const auto failure_of = [](std::string_view error_type, std::string_view message) {
    const auto decoded = decode_stream<AnthropicStreamDecoder>(
        event("content_block_delta",
              R"({"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hi"}})") +
        event("error", R"({"type":"error","error":{"type":")" + std::string(error_type) + R"(","message":")" +
                           std::string(message) + R"("}})") +
        event("message_stop", R"({"type":"message_stop"})"));
    CHECK(decoded.deltas == std::vector<std::string>{"Hi"});
    CHECK_FALSE(decoded.finished);
    CHECK(decoded.events_after_end == 1);
    REQUIRE(decoded.failure);
    return *decoded.failure;
  };
  const ProviderFailure overloaded = failure_of("overloaded_error", "Overloaded");
  CHECK(overloaded.kind == FailureKind::kServerError);
  CHECK(overloaded.message == "Overloaded");
  CHECK(overloaded.http_status == 0);
  CHECK(failure_of("api_error", "Internal server error").kind == FailureKind::kServerError);
  CHECK(failure_of("rate_limit_error", "Too many").kind == FailureKind::kRateLimited);
  CHECK(failure_of("invalid_request_error", "prompt too long").kind == FailureKind::kClientError);
  CHECK(failure_of("authentication_error", "bad key").kind == FailureKind::kClientError);
  CHECK(failure_of("permission_error", "no").kind == FailureKind::kClientError);
  CHECK(failure_of("not_found_error", "no model").kind == FailureKind::kClientError);
  CHECK(failure_of("request_too_large", "big").kind == FailureKind::kClientError);
  CHECK(failure_of("overloaded_error", "").message == "the provider reported overloaded_error");

  const auto broken = decode_stream<AnthropicStreamDecoder>(event("error", R"({"type":"error"})"));
  CHECK(broken.failure->kind == FailureKind::kProtocolError);
}

TEST_CASE("AnthropicStreamDecoder: a known event with broken data is a protocol error") {
  constexpr auto failure_of = failure_before_text<AnthropicStreamDecoder>;
  // The simulator's malformed event: cut off mid-JSON.
  const ProviderFailure cut = failure_of(
      "event: content_block_delta\ndata: "
      "{\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\n\n");
  CHECK(cut.kind == FailureKind::kProtocolError);
  CHECK(cut.message.starts_with("malformed JSON in a content_block_delta event"));
  CHECK(failure_of(event("message_start", "[]")).kind == FailureKind::kProtocolError);
  CHECK(failure_of(event("message_start", R"({"type":"message_start"})")).kind ==
        FailureKind::kProtocolError);
  CHECK(failure_of(event("content_block_delta", R"({"type":"content_block_delta"})")).kind ==
        FailureKind::kProtocolError);
  CHECK(failure_of(event("content_block_delta", R"({"delta":{"type":"text_delta","text":7}})")).kind ==
        FailureKind::kProtocolError);
  CHECK(failure_of(event("message_stop", "{")).kind == FailureKind::kProtocolError);
}

TEST_CASE("parse_anthropic_response reads a whole message") {
  SECTION("text blocks concatenated, stop reason, usage and id") {
    const auto result = parse_anthropic_response(
        R"({"id":"msg_01x","type":"message","role":"assistant","model":"claude-3-5-haiku-latest",
            "content":[{"type":"text","text":"Bright "},{"type":"tool_use","id":"t","name":"f","input":{}},
                       {"type":"text","text":"river."}],
            "stop_reason":"max_tokens","stop_sequence":null,"usage":{"input_tokens":8,"output_tokens":3}})");
    check_answer(result, "Bright river.", {FinishReason::kLength, TokenUsage{8, 3}, "msg_01x"});
  }
  SECTION("an error body") {
    const auto result = parse_anthropic_response(
        R"({"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}})");
    CHECK(std::get<ProviderFailure>(result).kind == FailureKind::kServerError);
    CHECK(std::get<ProviderFailure>(result).message == "Overloaded");
  }
  SECTION("bodies that are not a message") {
    check_protocol_errors(parse_anthropic_response, {"", "{\"id\":\"msg\",\"content\":[{\"type\":\"te", "7",
                                                     "{}", "{\"content\":\"text\"}", "{\"type\":\"error\"}"});
  }
}

TEST_CASE("parse_anthropic_error: status to failure kind, message and Retry-After") {
  const auto body = [](std::string_view type, std::string_view message) {
    return R"({"type":"error","error":{"type":")" + std::string(type) + R"(","message":")" +
           std::string(message) + R"("}})";
  };
  const ProviderFailure overloaded = parse_anthropic_error(529, body("overloaded_error", "Overloaded"), {});
  CHECK(overloaded.kind == FailureKind::kServerError);
  CHECK(overloaded.http_status == 529);
  CHECK(overloaded.message == "Overloaded");

  const ProviderFailure limited = parse_anthropic_error(
      429, body("rate_limit_error", "Number of request tokens has exceeded your limit."),
      {{"retry-after", "3"}});
  CHECK(limited.kind == FailureKind::kRateLimited);
  CHECK(limited.message == "Number of request tokens has exceeded your limit.");
  CHECK(limited.retry_after == 3000ms);

  const ProviderFailure unauthorized =
      parse_anthropic_error(401, body("authentication_error", "invalid x-api-key"), {});
  CHECK(unauthorized.kind == FailureKind::kClientError);
  CHECK(unauthorized.message == "invalid x-api-key");

  CHECK(parse_anthropic_error(500, body("api_error", "Internal server error"), {}).kind ==
        FailureKind::kServerError);
  CHECK(parse_anthropic_error(400, body("invalid_request_error", "max_tokens: Field required"), {}).message ==
        "max_tokens: Field required");

  const ProviderFailure gateway = parse_anthropic_error(504, "upstream request timeout", {});
  CHECK(gateway.kind == FailureKind::kServerError);
  CHECK(gateway.message == "the provider answered HTTP 504: upstream request timeout");
}

}  // namespace
}  // namespace rally::llm_proxy
