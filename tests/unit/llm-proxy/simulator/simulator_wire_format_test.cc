// The Anthropic wire format: request validation and the exact bytes of what is sent back. (The OpenAI
// format is rally_openai_wire's, tested in tests/unit/llm-proxy/wire/.)
#include <boost/json.hpp>
#include <catch2/catch.hpp>
#include <string>

#include "services/llm-proxy/simulator/anthropic_format.h"

namespace sim = rally::llm_simulator;
namespace json = boost::json;

namespace {

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
