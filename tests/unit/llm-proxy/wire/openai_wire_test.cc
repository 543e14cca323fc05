// The OpenAI Chat Completions wire format: request validation and the exact bytes of what is sent back.
#include "services/llm-proxy/wire/openai_wire.h"

#include <boost/json.hpp>
#include <catch2/catch.hpp>
#include <string>

namespace wire = rally::openai_wire;
namespace json = boost::json;

namespace {

std::string detail(const rally::common::Error& error, std::string_view key) {
  for (const auto& [name, value] : error.details) {
    if (name == key) return value;
  }
  return {};
}

rally::common::Result<wire::ChatRequest> parse_openai(std::string_view body) {
  return wire::parse_chat_request(json::parse(body));
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
      "max_tokens": 50, "max_completion_tokens": 40, "temperature": 0.7, "top_p": 1,
      "stop": ["END", "STOP"], "response_format": {"type": "text"}, "user": "u1", "seed": 3
  })");
  REQUIRE(parsed.ok());
  const auto& request = parsed.value();
  CHECK(request.model == "gpt-4o");
  REQUIRE(request.messages.size() == 3);
  CHECK(request.messages[0].role == "system");
  CHECK(request.messages[0].text == "Be brief.");
  CHECK(request.messages[1].text == "Part one\npart two");
  CHECK(request.messages[2].role == "assistant");
  CHECK(request.messages[2].text.empty());
  CHECK(request.stream);
  CHECK(request.include_usage);
  CHECK(request.max_tokens == 40u);  // max_completion_tokens wins
  CHECK(request.temperature == 0.7);
  CHECK(request.top_p == 1.0);
  CHECK(request.stop == std::vector<std::string>{"END", "STOP"});
  CHECK(request.response_format == wire::ResponseFormat::kText);
  CHECK_FALSE(request.json_mode());

  const auto single_stop =
      parse_openai(R"({"model": "m", "messages": [{"role": "user", "content": "x"}], "stop": "\n"})");
  REQUIRE(single_stop.ok());
  CHECK(single_stop.value().stop == std::vector<std::string>{"\n"});
}

TEST_CASE("optional OpenAI parameters stay unset when absent or null") {
  const auto parsed = parse_openai(R"({"model": "m", "messages": [{"role": "user", "content": "x"}],
      "temperature": null, "top_p": null, "max_tokens": null, "stop": null, "response_format": null,
      "stream": null})");
  REQUIRE(parsed.ok());
  const auto& request = parsed.value();
  CHECK_FALSE(request.temperature);
  CHECK_FALSE(request.top_p);
  CHECK_FALSE(request.max_tokens);
  CHECK(request.stop.empty());
  CHECK(request.response_format == wire::ResponseFormat::kUnspecified);
  CHECK_FALSE(request.stream);
  CHECK_FALSE(request.include_usage);
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
      {R"({"model": "m", "messages": [{"role": "user", "content": "x"}], "temperature": -0.5})",
       "decimal below minimum value. Expected a value >= 0", "temperature", "decimal_below_min_value"},
      {R"({"model": "m", "messages": [{"role": "user", "content": "x"}], "top_p": 1.5})",
       "Invalid 'top_p': decimal above maximum value. Expected a value <= 1", "top_p",
       "decimal_above_max_value"},
      {R"({"model": "m", "messages": [{"role": "user", "content": "x"}], "top_p": "high"})",
       "expected a decimal, but got a string", "top_p", "invalid_type"},
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

TEST_CASE("the n=1 error names the server") {
  const auto parsed = wire::parse_chat_request(
      json::parse(R"({"model": "m", "messages": [{"role": "user", "content": "x"}], "n": 3})"), "LlamaRally");
  REQUIRE_FALSE(parsed.ok());
  CHECK(parsed.error().message == "LlamaRally supports only n=1.");
}

TEST_CASE("OpenAI JSON mode needs the word json somewhere in the messages") {
  const auto parsed =
      parse_openai(R"({"model": "m", "messages": [{"role": "system", "content": "Reply in JSON."},
      {"role": "user", "content": "x"}], "response_format": {"type": "json_object"}})");
  REQUIRE(parsed.ok());
  CHECK(parsed.value().response_format == wire::ResponseFormat::kJsonObject);
  CHECK(parsed.value().json_mode());
  const auto schema = parse_openai(R"({"model": "m", "messages": [{"role": "user", "content": "x"}],
      "response_format": {"type": "json_schema", "json_schema": {"name": "s", "schema": {}}}})");
  REQUIRE(schema.ok());
  CHECK(schema.value().response_format == wire::ResponseFormat::kJsonSchema);
  CHECK(schema.value().json_mode());
}

TEST_CASE("OpenAI responses and chunks are byte-exact") {
  const wire::ResponseIdentity identity{"chatcmpl-abc", 1700000000, "gpt-4o", "fp_0123456789"};
  const wire::Usage usage{9, 3, 12};
  CHECK(wire::completion_body(identity, "Hello there.", "stop", usage) ==
        R"({"id":"chatcmpl-abc","object":"chat.completion","created":1700000000,"model":"gpt-4o",)"
        R"("system_fingerprint":"fp_0123456789","choices":[{"index":0,"message":{"role":"assistant",)"
        R"("content":"Hello there.","refusal":null},"logprobs":null,"finish_reason":"stop"}],)"
        R"("usage":{"prompt_tokens":9,"completion_tokens":3,"total_tokens":12}})");

  const std::string head = R"({"id":"chatcmpl-abc","object":"chat.completion.chunk","created":1700000000,)"
                           R"("model":"gpt-4o","system_fingerprint":"fp_0123456789",)";
  CHECK(
      wire::role_event(identity, false) ==
      "data: " + head +
          R"("choices":[{"index":0,"delta":{"role":"assistant","content":""},"logprobs":null,"finish_reason":null}]})"
          "\n\n");
  CHECK(
      wire::content_event(identity, "Hi \"you\"", true) ==
      "data: " + head +
          R"("choices":[{"index":0,"delta":{"content":"Hi \"you\""},"logprobs":null,"finish_reason":null}],"usage":null})"
          "\n\n");
  CHECK(wire::finish_event(identity, "length", true) ==
        "data: " + head +
            R"("choices":[{"index":0,"delta":{},"logprobs":null,"finish_reason":"length"}],"usage":null})"
            "\n\n");
  CHECK(wire::usage_event(identity, usage) ==
        "data: " + head +
            R"("choices":[],"usage":{"prompt_tokens":9,"completion_tokens":3,"total_tokens":12}})"
            "\n\n");
  CHECK(wire::done_event() == "data: [DONE]\n\n");

  CHECK(
      wire::error_event("server_error", "Boom") ==
      "data: {\"error\":{\"message\":\"Boom\",\"type\":\"server_error\",\"param\":null,\"code\":null}}\n\n");
  CHECK(wire::error_event("server_error", "Boom", "upstream_error") ==
        "data: "
        "{\"error\":{\"message\":\"Boom\",\"type\":\"server_error\",\"param\":null,\"code\":\"upstream_"
        "error\"}}"
        "\n\n");
  const std::string malformed = wire::malformed_event(identity);
  CHECK(malformed.starts_with("data: {"));
  CHECK(malformed.ends_with("\n\n"));
  boost::system::error_code ec;
  json::parse(malformed.substr(6, malformed.size() - 8), ec);
  CHECK(ec);
}

TEST_CASE("OpenAI error bodies per status") {
  const auto error_of = [](int status) {
    return json::parse(wire::error_body_for_status(status)).at("error");
  };
  CHECK(error_of(429).at("type").as_string() == "requests");
  CHECK(error_of(429).at("code").as_string() == "rate_limit_exceeded");
  CHECK(error_of(500).at("type").as_string() == "server_error");
  CHECK(error_of(500).at("message").as_string() == wire::kServerErrorMessage);
  CHECK(error_of(503).at("type").as_string() == "server_error");
  CHECK(error_of(401).at("code").as_string() == "invalid_api_key");
  CHECK(error_of(418).at("type").as_string() == "invalid_request_error");
  CHECK(error_of(500).at("param").is_null());
}

TEST_CASE("validation errors and unknown models become OpenAI error bodies") {
  const auto parsed = parse_openai(R"({"model": "m", "messages": []})");
  REQUIRE_FALSE(parsed.ok());
  CHECK(wire::invalid_request_body(parsed.error()) ==
        R"({"error":{"message":"Invalid 'messages': empty array. Expected an array with minimum length 1, )"
        R"(but got an empty array instead.","type":"invalid_request_error","param":"messages",)"
        R"("code":"empty_array"}})");
  const auto unknown =
      parse_openai(R"({"model": "m", "messages": [{"role": "user", "content": "x"}], "x": 1})");
  REQUIRE_FALSE(unknown.ok());
  CHECK(wire::invalid_request_body(unknown.error()) ==
        R"({"error":{"message":"Unrecognized request argument supplied: x","type":"invalid_request_error",)"
        R"("param":null,"code":null}})");
  CHECK(wire::model_not_found_body("gpt-9") ==
        R"({"error":{"message":"The model `gpt-9` does not exist or you do not have access to it.",)"
        R"("type":"invalid_request_error","param":null,"code":"model_not_found"}})");
}

TEST_CASE("model lists name each model's owner") {
  CHECK(
      wire::models_body({{"gpt-4o", 1700000000, "rally-llm-simulator"}, {"claude-x", 0, "anthropic"}}) ==
      R"({"object":"list","data":[{"id":"gpt-4o","object":"model","created":1700000000,"owned_by":"rally-llm-simulator"},)"
      R"({"id":"claude-x","object":"model","created":0,"owned_by":"anthropic"}]})");
  CHECK(wire::model_body({"gpt-4o", 1, "openai"}) ==
        R"({"id":"gpt-4o","object":"model","created":1,"owned_by":"openai"})");
}
