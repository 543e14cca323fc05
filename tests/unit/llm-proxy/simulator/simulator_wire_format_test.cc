// The OpenAI and Anthropic wire formats: request validation and the exact bytes of what is sent back.
#include <boost/json.hpp>
#include <catch2/catch.hpp>
#include <string>

#include "services/llm-proxy/simulator/anthropic_format.h"
#include "services/llm-proxy/simulator/openai_format.h"

namespace sim = rally::llm_simulator;
namespace json = boost::json;

namespace {

std::string detail(const rally::common::Error& error, std::string_view key) {
  for (const auto& [name, value] : error.details) {
    if (name == key) return value;
  }
  return {};
}

rally::common::Result<sim::openai::ChatRequest> parse_openai(std::string_view body) {
  return sim::openai::parse_chat_request(json::parse(body));
}

rally::common::Result<sim::anthropic::MessagesRequest> parse_anthropic(std::string_view body) {
  return sim::anthropic::parse_messages_request(json::parse(body));
}

sim::Reply sample_reply() {
  sim::Reply reply;
  reply.text = "Hello there.";
  reply.prompt_tokens = 9;
  reply.completion_tokens = 3;
  return reply;
}

}  // namespace

TEST_CASE("OpenAI requests are read as the API reads them") {
  const auto parsed = parse_openai(R"({
      "model": "gpt-4o",
      "messages": [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": [{"type": "text", "text": "Part one"}, {"type": "image_url", "image_url": {"url": "x"}},
                                     {"type": "text", "text": "part two"}]},
        {"role": "assistant", "content": null, "tool_calls": []}
      ],
      "stream": true, "stream_options": {"include_usage": true},
      "max_tokens": 50, "max_completion_tokens": 40, "temperature": 0.7,
      "stop": ["END", "STOP"], "response_format": {"type": "text"}, "user": "u1", "seed": 3
  })");
  REQUIRE(parsed.ok());
  const auto& request = parsed.value();
  CHECK(request.completion.model == "gpt-4o");
  REQUIRE(request.completion.messages.size() == 3);
  CHECK(request.completion.messages[0].role == "system");
  CHECK(request.completion.messages[1].text == "Part one\npart two");
  CHECK(request.completion.messages[2].text.empty());
  CHECK(request.stream);
  CHECK(request.include_usage);
  CHECK(request.completion.max_tokens == 40u);  // max_completion_tokens wins
  CHECK(request.completion.stop_sequences == std::vector<std::string>{"END", "STOP"});
  CHECK_FALSE(request.completion.json_mode);

  const auto single_stop =
      parse_openai(R"({"model": "m", "messages": [{"role": "user", "content": "x"}], "stop": "\n"})");
  REQUIRE(single_stop.ok());
  CHECK(single_stop.value().completion.stop_sequences == std::vector<std::string>{"\n"});
}

TEST_CASE("invalid OpenAI requests get OpenAI's messages, params and codes") {
  struct Case {
    const char* body;
    const char* message_part;
    const char* param;
    const char* code;
  };
  const Case cases[] = {
      {R"([1])", "Invalid type for 'body'", "body", "invalid_type"},
      {R"({"messages": [{"role": "user", "content": "x"}]})", "you must provide a model parameter", "", ""},
      {R"({"model": 4, "messages": []})", "expected a string, but got an integer", "model", "invalid_type"},
      {R"({"model": "m"})", "Missing required parameter: 'messages'", "messages",
       "missing_required_parameter"},
      {R"({"model": "m", "messages": []})", "empty array", "messages", "empty_array"},
      {R"({"model": "m", "messages": [{"content": "x"}]})", "messages[0].role", "messages[0].role",
       "missing_required_parameter"},
      {R"({"model": "m", "messages": [{"role": "wizard", "content": "x"}]})", "Invalid value: 'wizard'",
       "messages[0].role", "invalid_value"},
      {R"({"model": "m", "messages": [{"role": "user", "content": 5}]})",
       "one of a string or array of objects", "messages[0].content", "invalid_type"},
      {R"({"model": "m", "messages": [{"role": "user", "content": [{"type": "text"}]}]})",
       "messages[0].content[0].text", "messages[0].content[0].text", "missing_required_parameter"},
      {R"({"model": "m", "messages": [{"role": "user", "content": "x"}], "max_tokens": 0})",
       "integer below minimum value", "max_tokens", "integer_below_min_value"},
      {R"({"model": "m", "messages": [{"role": "user", "content": "x"}], "max_tokens": 1.5})",
       "expected an integer", "max_tokens", "invalid_type"},
      {R"({"model": "m", "messages": [{"role": "user", "content": "x"}], "temperature": 3})",
       "decimal above maximum value", "temperature", "decimal_above_max_value"},
      {R"({"model": "m", "messages": [{"role": "user", "content": "x"}], "stream_options": {"include_usage": true}})",
       "only allowed when 'stream' is enabled", "stream_options", ""},
      {R"({"model": "m", "messages": [{"role": "user", "content": "x"}], "stop": ["a", "b", "c", "d", "e"]})",
       "array too long", "stop", "array_above_max_length"},
      {R"({"model": "m", "messages": [{"role": "user", "content": "x"}], "response_format": {"type": "xml"}})",
       "Invalid value: 'xml'", "response_format.type", "invalid_value"},
      {R"({"model": "m", "messages": [{"role": "user", "content": "x"}], "response_format": {"type": "json_object"}})",
       "must contain the word 'json'", "messages", ""},
      {R"({"model": "m", "messages": [{"role": "user", "content": "x"}], "n": 2})", "n=1", "n",
       "unsupported_value"},
      {R"({"model": "m", "messages": [{"role": "user", "content": "x"}], "max_token": 5})",
       "Unrecognized request argument supplied: max_token", "", ""},
  };
  for (const Case& c : cases) {
    INFO(c.body);
    const auto parsed = parse_openai(c.body);
    REQUIRE_FALSE(parsed.ok());
    CHECK_THAT(parsed.error().message, Catch::Contains(c.message_part));
    CHECK(detail(parsed.error(), "param") == c.param);
    CHECK(detail(parsed.error(), "code") == c.code);
  }
}

TEST_CASE("OpenAI JSON mode needs the word json somewhere in the messages") {
  const auto parsed =
      parse_openai(R"({"model": "m", "messages": [{"role": "system", "content": "Reply in JSON."},
      {"role": "user", "content": "x"}], "response_format": {"type": "json_object"}})");
  REQUIRE(parsed.ok());
  CHECK(parsed.value().completion.json_mode);
  const auto schema = parse_openai(R"({"model": "m", "messages": [{"role": "user", "content": "x"}],
      "response_format": {"type": "json_schema", "json_schema": {"name": "s", "schema": {}}}})");
  REQUIRE(schema.ok());
  CHECK(schema.value().completion.json_mode);
}

TEST_CASE("OpenAI responses and chunks are byte-exact") {
  const sim::openai::ResponseIdentity identity{"chatcmpl-abc", 1700000000, "gpt-4o", "fp_0123456789"};
  const sim::Reply reply = sample_reply();
  CHECK(sim::openai::completion_body(identity, reply) ==
        R"({"id":"chatcmpl-abc","object":"chat.completion","created":1700000000,"model":"gpt-4o",)"
        R"("system_fingerprint":"fp_0123456789","choices":[{"index":0,"message":{"role":"assistant",)"
        R"("content":"Hello there.","refusal":null},"logprobs":null,"finish_reason":"stop"}],)"
        R"("usage":{"prompt_tokens":9,"completion_tokens":3,"total_tokens":12}})");

  const std::string head = R"({"id":"chatcmpl-abc","object":"chat.completion.chunk","created":1700000000,)"
                           R"("model":"gpt-4o","system_fingerprint":"fp_0123456789",)";
  CHECK(
      sim::openai::role_event(identity, false) ==
      "data: " + head +
          R"("choices":[{"index":0,"delta":{"role":"assistant","content":""},"logprobs":null,"finish_reason":null}]})"
          "\n\n");
  CHECK(
      sim::openai::content_event(identity, "Hi \"you\"", true) ==
      "data: " + head +
          R"("choices":[{"index":0,"delta":{"content":"Hi \"you\""},"logprobs":null,"finish_reason":null}],"usage":null})"
          "\n\n");
  CHECK(sim::openai::finish_event(identity, sim::FinishReason::kMaxTokens, true) ==
        "data: " + head +
            R"("choices":[{"index":0,"delta":{},"logprobs":null,"finish_reason":"length"}],"usage":null})"
            "\n\n");
  CHECK(sim::openai::usage_event(identity, reply) ==
        "data: " + head +
            R"("choices":[],"usage":{"prompt_tokens":9,"completion_tokens":3,"total_tokens":12}})"
            "\n\n");
  CHECK(sim::openai::done_event() == "data: [DONE]\n\n");

  const std::string error = sim::openai::error_event("server_error", "Boom");
  CHECK(
      error ==
      "data: {\"error\":{\"message\":\"Boom\",\"type\":\"server_error\",\"param\":null,\"code\":null}}\n\n");
  const std::string malformed = sim::openai::malformed_event(identity);
  CHECK(malformed.starts_with("data: {"));
  CHECK(malformed.ends_with("\n\n"));
  boost::system::error_code ec;
  json::parse(malformed.substr(6, malformed.size() - 8), ec);
  CHECK(ec);
}

TEST_CASE("OpenAI error bodies per status") {
  const auto error_of = [](int status) {
    return json::parse(sim::openai::error_body_for_status(status)).at("error");
  };
  CHECK(error_of(429).at("type").as_string() == "requests");
  CHECK(error_of(429).at("code").as_string() == "rate_limit_exceeded");
  CHECK(error_of(500).at("type").as_string() == "server_error");
  CHECK(error_of(503).at("type").as_string() == "server_error");
  CHECK(error_of(401).at("code").as_string() == "invalid_api_key");
  CHECK(error_of(418).at("type").as_string() == "invalid_request_error");
  CHECK(error_of(500).at("param").is_null());
  CHECK(
      sim::openai::models_body({{"gpt-4o", 1700000000}}) ==
      R"({"object":"list","data":[{"id":"gpt-4o","object":"model","created":1700000000,"owned_by":"rally-llm-simulator"}]})");
}

TEST_CASE("Anthropic requests are read as the API reads them") {
  const auto parsed = parse_anthropic(R"({
      "model": "claude-3-5-sonnet-latest", "max_tokens": 100,
      "system": [{"type": "text", "text": "Be brief."}, {"type": "text", "text": "Be kind."}],
      "messages": [{"role": "user", "content": "Hi"},
                   {"role": "assistant", "content": [{"type": "text", "text": "Hello"}]},
                   {"role": "user", "content": [{"type": "image", "source": {}}, {"type": "text", "text": "Look"}]}],
      "stream": true, "stop_sequences": ["\n\nHuman:"], "temperature": 0.5, "metadata": {"user_id": "u"}
  })");
  REQUIRE(parsed.ok());
  const auto& request = parsed.value();
  REQUIRE(request.completion.messages.size() == 4);
  CHECK(request.completion.messages[0].role == "system");
  CHECK(request.completion.messages[0].text == "Be brief.\nBe kind.");
  CHECK(request.completion.messages[3].text == "Look");
  CHECK(request.completion.max_tokens == 100u);
  CHECK(request.stream);
  CHECK(request.completion.stop_sequences == std::vector<std::string>{"\n\nHuman:"});
  CHECK_FALSE(request.completion.json_mode);
}

TEST_CASE("invalid Anthropic requests get Anthropic's messages") {
  const std::pair<const char*, const char*> cases[] = {
      {R"({"model": "m", "messages": [{"role": "user", "content": "x"}]})", "max_tokens: Field required"},
      {R"({"max_tokens": 5, "messages": [{"role": "user", "content": "x"}]})", "model: Field required"},
      {R"({"model": "m", "max_tokens": 5})", "messages: Field required"},
      {R"({"model": "m", "max_tokens": 0, "messages": [{"role": "user", "content": "x"}]})",
       "max_tokens: Input should be greater than or equal to 1"},
      {R"({"model": "m", "max_tokens": 5, "messages": []})", "at least 1 item"},
      {R"({"model": "m", "max_tokens": 5, "messages": [{"role": "system", "content": "x"}]})",
       "top-level `system` parameter"},
      {R"({"model": "m", "max_tokens": 5, "messages": [{"role": "bot", "content": "x"}]})",
       "messages.0.role: Input should be 'user' or 'assistant'"},
      {R"({"model": "m", "max_tokens": 5, "messages": [{"role": "user"}]})",
       "messages.0.content: Field required"},
      {R"({"model": "m", "max_tokens": 5, "messages": [{"role": "user", "content": "x"}], "temperature": 1.5})",
       "temperature: Input should be less than or equal to 1"},
      {R"({"model": "m", "max_tokens": 5, "messages": [{"role": "user", "content": "x"}], "n": 1})",
       "n: Extra inputs are not permitted"},
  };
  for (const auto& [body, message] : cases) {
    INFO(body);
    const auto parsed = parse_anthropic(body);
    REQUIRE_FALSE(parsed.ok());
    CHECK_THAT(parsed.error().message, Catch::Contains(message));
  }
}

TEST_CASE("Anthropic messages and events are byte-exact") {
  const sim::anthropic::ResponseIdentity identity{"msg_01abc", "claude-3-5-sonnet-latest"};
  sim::Reply reply = sample_reply();
  CHECK(sim::anthropic::message_body(identity, reply) ==
        R"({"id":"msg_01abc","type":"message","role":"assistant","model":"claude-3-5-sonnet-latest",)"
        R"("content":[{"type":"text","text":"Hello there."}],"stop_reason":"end_turn","stop_sequence":null,)"
        R"("usage":{"input_tokens":9,"output_tokens":3}})");
  CHECK(sim::anthropic::message_start_event(identity, 9) ==
        "event: message_start\n"
        R"(data: {"type":"message_start","message":{"id":"msg_01abc","type":"message","role":"assistant",)"
        R"("content":[],"model":"claude-3-5-sonnet-latest","stop_reason":null,"stop_sequence":null,)"
        R"("usage":{"input_tokens":9,"output_tokens":1}}})"
        "\n\n");
  CHECK(sim::anthropic::content_block_start_event() ==
        "event: content_block_start\n"
        R"(data: {"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}})"
        "\n\n");
  CHECK(sim::anthropic::ping_event() == "event: ping\ndata: {\"type\": \"ping\"}\n\n");
  CHECK(sim::anthropic::text_delta_event(" world") ==
        "event: content_block_delta\n"
        R"(data: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":" world"}})"
        "\n\n");
  CHECK(sim::anthropic::content_block_stop_event() ==
        "event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":0}\n\n");
  reply.finish = sim::FinishReason::kStopSequence;
  reply.stop_sequence = "END";
  CHECK(sim::anthropic::message_delta_event(reply) ==
        "event: message_delta\n"
        R"(data: {"type":"message_delta","delta":{"stop_reason":"stop_sequence","stop_sequence":"END"},)"
        R"("usage":{"output_tokens":3}})"
        "\n\n");
  CHECK(sim::anthropic::message_stop_event() == "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n");
  CHECK(sim::anthropic::error_event("overloaded_error", "Overloaded") ==
        "event: error\n"
        R"(data: {"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}})"
        "\n\n");
  CHECK(sim::anthropic::stop_reason_name(sim::FinishReason::kMaxTokens) == "max_tokens");
}

TEST_CASE("Anthropic error types per status") {
  CHECK(sim::anthropic::error_type_for_status(400) == "invalid_request_error");
  CHECK(sim::anthropic::error_type_for_status(401) == "authentication_error");
  CHECK(sim::anthropic::error_type_for_status(403) == "permission_error");
  CHECK(sim::anthropic::error_type_for_status(404) == "not_found_error");
  CHECK(sim::anthropic::error_type_for_status(413) == "request_too_large");
  CHECK(sim::anthropic::error_type_for_status(429) == "rate_limit_error");
  CHECK(sim::anthropic::error_type_for_status(500) == "api_error");
  CHECK(sim::anthropic::error_type_for_status(503) == "api_error");
  CHECK(sim::anthropic::error_type_for_status(529) == "overloaded_error");
  CHECK(sim::anthropic::error_body_for_status(529) ==
        R"({"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}})");
}
