// The LLM API end to end: the gateway's /llm_request, /llm_request_streaming, /v1/chat/completions and
// /v1/models over the real rally-llm-proxy, which (with no provider API keys) sends every model of
// deploy/models.json to the real LLM simulator, against real PostgreSQL and Redis. The simulator's replies
// are deterministic, so each answer is compared with what the simulator itself says for the same prompt.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <catch2/catch.hpp>
#include <exception>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "tests/integration/llm_stack.h"
#include "tests/support/http_client.h"
#include "tests/support/process.h"
#include "tests/support/temporary_directory.h"
#include "tests/support/test_env.h"

namespace rally::testing {
namespace {

constexpr const char* kOpenAiModel = "gpt-4o";
constexpr const char* kAnthropicModel = "claude-3-5-sonnet-20240620";

}  // namespace

TEST_CASE("/llm_request answers with the model's text for OpenAI and Anthropic models", "[integration]") {
  LlmStack stack;
  const int port = stack.gateway_port();

  for (const std::string_view model : {kOpenAiModel, kAnthropicModel}) {
    INFO(model);
    const std::string prompt = "Tell me about rivers, " + std::string(model);
    stack.clear_simulator_log();
    const HttpResult result = http_request(port, "POST", "/llm_request", body_of(prompt, model),
                                           {{"X-Request-Id", "req_llm_unary_1"}});
    INFO(result.body);
    REQUIRE(result.status == 200);
    CHECK(result.header("x-request-id") == "req_llm_unary_1");
    check_overhead_header(result);
    const json::object body = parse_json(result.body).as_object();
    CHECK(body.at("message").as_string() == prompt);
    CHECK(body.at("response").as_string() == stack.simulator_text(model, prompt));
    CHECK(body.at("model").as_string() == model);
    CHECK(body.at("served_by").as_string() == model);
    CHECK(body.at("finish_reason").as_string() == "stop");
    CHECK(body.at("simulated").as_bool());
    // The provider's own wire format reached the simulator.
    const std::vector<std::string> paths = stack.simulator_paths();
    REQUIRE_FALSE(paths.empty());
    CHECK(paths.front() == (model == kOpenAiModel ? "/v1/chat/completions" : "/v1/messages"));
  }

  // No model: the seed's default.
  const HttpResult defaulted = http_request(port, "POST", "/llm_request", R"({"message": "Hello"})");
  REQUIRE(defaulted.status == 200);
  CHECK(parse_json(defaulted.body).at("model").as_string() == "gpt-3.5-turbo");
  CHECK(parse_json(defaulted.body).at("response").as_string() ==
        stack.simulator_text("gpt-3.5-turbo", "Hello"));
}

TEST_CASE("/llm_request refuses bad input in the error envelope", "[integration]") {
  LlmStack stack;
  const int port = stack.gateway_port();

  for (const std::string body : {R"({"model": "gpt-4o"})", R"({"message": "   "})", R"({"message": 7})"}) {
    INFO(body);
    const HttpResult result = http_request(port, "POST", "/llm_request", body);
    CHECK(result.status == 400);
    check_overhead_header(result);
    const json::value envelope = parse_json(result.body);
    CHECK(envelope.at("success") == false);
    CHECK(envelope.at("error").at("code") == "INVALID_REQUEST");
    CHECK(envelope.at("error").at("message") == "Message is required");
    CHECK(envelope.at("metadata").at("request_id").as_string() == result.header("x-request-id"));
  }
  // Bodies that are not a JSON object, and the streaming route before any stream starts: the same envelope.
  const std::vector<std::pair<std::string, std::string>> malformed{
      {"/llm_request", "{not json"},
      {"/llm_request", "[]"},
      {"/llm_request", R"({"message": "Hi", "model": 5})"},
      {"/llm_request_streaming", "{not json"},
      {"/llm_request_streaming", R"({"model": "gpt-4o"})"},
  };
  for (const auto& [route, body] : malformed) {
    INFO(route << " " << body);
    const HttpResult result = http_request(port, "POST", route, body);
    CHECK(result.status == 400);
    CHECK(result.header("content-type").starts_with("application/json"));
    const json::value rejected = parse_json(result.body);
    CHECK(rejected.at("success") == false);
    CHECK(rejected.at("error").at("code") == "INVALID_REQUEST");
    CHECK_FALSE(rejected.at("error").at("message").as_string().empty());
    CHECK(rejected.at("metadata").at("request_id").as_string() == result.header("x-request-id"));
  }

  const HttpResult unknown = http_request(port, "POST", "/llm_request", body_of("Hi", "gpt-99"));
  CHECK(unknown.status == 400);
  check_overhead_header(unknown);
  const json::value envelope = parse_json(unknown.body);
  CHECK(envelope.at("error").at("code") == "INVALID_REQUEST");
  CHECK_THAT(std::string(envelope.at("error").at("message").as_string()), Catch::Contains("gpt-99"));
  CHECK_THAT(std::string(envelope.at("error").at("message").as_string()), Catch::Contains("gpt-4o"));

  const HttpResult unknown_stream =
      http_request(port, "POST", "/llm_request_streaming", body_of("Hi", "gpt-99"));
  CHECK(unknown_stream.status == 400);
  CHECK(parse_json(unknown_stream.body).at("error").at("code") == "INVALID_REQUEST");
}

TEST_CASE("/llm_request_streaming sends the same text as deltas, then a done event", "[integration]") {
  LlmStack stack("50ms");
  const int port = stack.gateway_port();
  const std::string prompt = "Stream me something about arenas";
  const std::string expected = stack.simulator_text(kAnthropicModel, prompt);

  // The first byte from the provider is late (20 heartbeat periods): heartbeats keep the stream alive.
  stack.arm_simulator_fault(R"({"count": 1, "fault": {"stall_before_first_byte_ms": 1000}})");
  const HttpResult result =
      http_request(port, "POST", "/llm_request_streaming", body_of(prompt, kAnthropicModel),
                   {{"X-Request-Id", "req_llm_stream_1"}}, 30s);
  INFO(result.body);
  REQUIRE(result.status == 200);
  CHECK(result.header("content-type") == "text/event-stream; charset=utf-8");
  CHECK(result.header("cache-control") == "no-cache");
  CHECK(result.header("x-accel-buffering") == "no");
  CHECK(result.header("x-request-id") == "req_llm_stream_1");
  check_overhead_header(result);
  CHECK(result.body.starts_with(": heartbeat\n\n"));

  int heartbeats = 0;
  const std::vector<SseEvent> events = parse_events(result.body, &heartbeats);
  CHECK(heartbeats >= 1);
  REQUIRE(events.size() >= 2);
  std::string text;
  for (std::size_t i = 0; i + 1 < events.size(); ++i) {
    CHECK(events[i].event.empty());
    const json::value data = parse_json(events[i].data);
    CHECK(data.at("model").as_string() == kAnthropicModel);
    text += data.at("delta").as_string();
  }
  CHECK(text == expected);

  const SseEvent& done = events.back();
  CHECK(done.event == "done");
  const json::value data = parse_json(done.data);
  CHECK(data.at("finish_reason") == "stop");
  CHECK(data.at("served_by") == kAnthropicModel);
  CHECK(data.at("usage").at("completion_tokens").to_number<std::int64_t>() > 0);
  CHECK(data.at("overhead_ms").to_number<double>() >= 0);
  CHECK(data.at("timing").as_object().contains("upstream_ms"));

  // Without a model: the seed's default.
  const HttpResult defaulted =
      http_request(port, "POST", "/llm_request_streaming", R"({"message": "Hello"})");
  REQUIRE(defaulted.status == 200);
  const std::vector<SseEvent> default_events = parse_events(defaulted.body);
  REQUIRE_FALSE(default_events.empty());
  CHECK(parse_json(default_events.front().data).at("model") == "gpt-3.5-turbo");
  CHECK(default_events.back().event == "done");
}

TEST_CASE("a stream that fails midway ends with an error event", "[integration]") {
  LlmStack stack;
  const int port = stack.gateway_port();
  stack.arm_simulator_fault(R"({"count": 1, "fault": {"error_event_after_chunks": 2}})");
  const HttpResult result =
      http_request(port, "POST", "/llm_request_streaming", body_of("Break after two", kOpenAiModel), {}, 30s);
  INFO(result.body);
  REQUIRE(result.status == 200);
  const std::vector<SseEvent> events = parse_events(result.body);
  REQUIRE(events.size() >= 2);
  for (std::size_t i = 0; i + 1 < events.size(); ++i)
    CHECK(parse_json(events[i].data).as_object().contains("delta"));
  CHECK(events.back().event == "error");
  const json::value error = parse_json(events.back().data);
  CHECK(error.at("code") == "UPSTREAM_ERROR");
  CHECK_FALSE(error.at("message").as_string().empty());
}

TEST_CASE("a client that goes away cancels the provider request", "[integration]") {
  LlmStack stack;
  const int port = stack.gateway_port();
  // The simulator's log says "client_closed" once whoever called it hung up: here the llm-proxy, after the
  // gateway cancelled its call because the client left. "in_progress" says the provider request is waiting.
  const auto last_outcome = [&] {
    const HttpResult log = http_request(stack.simulator_port(), "GET", "/_sim/requests");
    const json::value entries = parse_json(log.body);
    return entries.as_array().empty() ? std::string()
                                      : std::string(entries.as_array().back().at("outcome").as_string());
  };
  const std::string stall = R"({"count": 1, "fault": {"stall_before_first_byte_ms": 100000000000}})";
  const json::object chat{{"model", kOpenAiModel},
                          {"stream", true},
                          {"messages", json::array{json::object{{"role", "user"}, {"content", "Wait"}}}}};
  const std::vector<std::pair<std::string, std::string>> requests{
      {"/llm_request", body_of("Wait for me", kOpenAiModel)},
      {"/llm_request_streaming", body_of("Wait for me", kAnthropicModel)},
      {"/v1/chat/completions", json::serialize(chat)},
  };
  for (const auto& [route, body] : requests) {
    INFO(route);
    stack.clear_simulator_log();
    stack.arm_simulator_fault(stall);
    // The client hangs up while the provider request stalls.
    send_and_hang_up(port, route, body, [&] { return last_outcome() == "in_progress"; });
    const bool cancelled = wait_until([&] { return last_outcome() == "client_closed"; }, 10s);
    INFO(stack.logs());
    CHECK(cancelled);
  }
}

TEST_CASE("/v1/chat/completions and /v1/models speak OpenAI's format", "[integration]") {
  LlmStack stack;
  const int port = stack.gateway_port();
  const std::string prompt = "Say something about ratings";
  const std::string expected = stack.simulator_text(kOpenAiModel, prompt);
  const json::object request{{"model", kOpenAiModel},
                             {"messages", json::array{json::object{{"role", "user"}, {"content", prompt}}}}};
  const std::map<std::string, std::string> headers{{"Authorization", "Bearer sk-anything"},
                                                   {"Content-Type", "application/json"}};

  SECTION("a whole completion") {
    const HttpResult result =
        http_request(port, "POST", "/v1/chat/completions", json::serialize(request), headers);
    INFO(result.body);
    REQUIRE(result.status == 200);
    check_overhead_header(result);
    const json::value body = parse_json(result.body);
    CHECK(body.at("object") == "chat.completion");
    CHECK(body.at("id").as_string().starts_with("chatcmpl-"));
    CHECK(body.at("model") == kOpenAiModel);
    CHECK(body.at("choices").at(0).at("message").at("role") == "assistant");
    CHECK(body.at("choices").at(0).at("message").at("content").as_string() == expected);
    CHECK(body.at("choices").at(0).at("finish_reason") == "stop");
    const json::value& usage = body.at("usage");
    CHECK(usage.at("total_tokens").to_number<std::int64_t>() ==
          usage.at("prompt_tokens").to_number<std::int64_t>() +
              usage.at("completion_tokens").to_number<std::int64_t>());
  }

  SECTION("a streamed completion with usage") {
    json::object streamed = request;
    streamed["stream"] = true;
    streamed["stream_options"] = json::object{{"include_usage", true}};
    const HttpResult result =
        http_request(port, "POST", "/v1/chat/completions", json::serialize(streamed), headers, 30s);
    INFO(result.body);
    REQUIRE(result.status == 200);
    CHECK(result.header("content-type") == "text/event-stream; charset=utf-8");
    check_overhead_header(result);
    const std::vector<SseEvent> events = parse_events(result.body);
    REQUIRE(events.size() >= 5);  // role, content..., finish, usage, [DONE]
    CHECK(events.back().data == "[DONE]");
    const json::value role = parse_json(events.front().data);
    CHECK(role.at("object") == "chat.completion.chunk");
    CHECK(role.at("choices").at(0).at("delta").at("role") == "assistant");
    std::string text;
    std::optional<std::string> finish_reason;
    std::optional<json::value> usage;
    for (std::size_t i = 1; i + 1 < events.size(); ++i) {
      CHECK(events[i].event.empty());
      const json::value chunk = parse_json(events[i].data);
      CHECK(chunk.at("id") == role.at("id"));
      const json::array& choices = chunk.at("choices").as_array();
      if (choices.empty()) {
        usage = chunk.at("usage");
        continue;
      }
      CHECK_FALSE(usage);  // the usage chunk comes last
      const json::value& delta = choices.at(0).at("delta");
      if (delta.as_object().contains("content")) text += delta.at("content").as_string();
      if (!choices.at(0).at("finish_reason").is_null()) {
        finish_reason = std::string(choices.at(0).at("finish_reason").as_string());
      }
    }
    CHECK(text == expected);
    CHECK(finish_reason == "stop");
    REQUIRE(usage);
    CHECK(usage->at("completion_tokens").to_number<std::int64_t>() > 0);
  }

  SECTION("a stream without include_usage has no usage chunk") {
    json::object streamed = request;
    streamed["stream"] = true;
    const HttpResult result =
        http_request(port, "POST", "/v1/chat/completions", json::serialize(streamed), headers, 30s);
    REQUIRE(result.status == 200);
    const std::vector<SseEvent> events = parse_events(result.body);
    REQUIRE(events.size() >= 3);
    CHECK(events.back().data == "[DONE]");
    for (std::size_t i = 0; i + 1 < events.size(); ++i) {
      const json::value chunk = parse_json(events[i].data);
      CHECK_FALSE(chunk.at("choices").as_array().empty());
      CHECK_FALSE(chunk.as_object().contains("usage"));
    }
  }

  SECTION("errors are OpenAI's") {
    json::object unknown = request;
    unknown["model"] = "gpt-99";
    const HttpResult missing =
        http_request(port, "POST", "/v1/chat/completions", json::serialize(unknown), headers);
    CHECK(missing.status == 404);
    check_overhead_header(missing);
    CHECK(parse_json(missing.body).at("error").at("code") == "model_not_found");

    unknown["stream"] = true;
    const HttpResult missing_stream =
        http_request(port, "POST", "/v1/chat/completions", json::serialize(unknown), headers);
    CHECK(missing_stream.status == 404);
    CHECK(parse_json(missing_stream.body).at("error").at("code") == "model_not_found");

    const HttpResult empty =
        http_request(port, "POST", "/v1/chat/completions", R"({"model": "gpt-4o", "messages": []})", headers);
    CHECK(empty.status == 400);
    CHECK(parse_json(empty.body).at("error").at("code") == "empty_array");
    const HttpResult garbage = http_request(port, "POST", "/v1/chat/completions", "{", headers);
    CHECK(garbage.status == 400);
    CHECK(parse_json(garbage.body).at("error").at("type") == "invalid_request_error");

    // A LlamaRally token that is not valid is refused by the gateway's edge, still in OpenAI's format.
    for (const auto& [method, target] : {std::pair{"POST", "/v1/chat/completions"}, {"GET", "/v1/models"}}) {
      const HttpResult refused = http_request(port, method, target, json::serialize(request),
                                              {{"Authorization", "Bearer rally_not_a_token"}});
      INFO(target << ": " << refused.body);
      CHECK(refused.status == 401);
      CHECK(refused.header("www-authenticate") == R"(Bearer error="invalid_token")");
      const json::value refusal = parse_json(refused.body);
      CHECK_FALSE(refusal.as_object().contains("success"));
      CHECK(refusal.at("error").at("code") == "authentication_failed");
      CHECK(refusal.at("error").at("message") == "Invalid or revoked API token");
      CHECK(refusal.at("error").at("type").is_string());
    }
  }

  SECTION("the model list") {
    const HttpResult result = http_request(port, "GET", "/v1/models", {}, headers);
    REQUIRE(result.status == 200);
    check_overhead_header(result);
    const json::value body = parse_json(result.body);
    CHECK(body.at("object") == "list");
    bool listed = false;
    for (const json::value& model : body.at("data").as_array()) {
      CHECK(model.at("object") == "model");
      CHECK(model.at("owned_by") == "llamarally-simulator");  // no provider keys: all simulated
      listed = listed || model.at("id") == kAnthropicModel;
    }
    CHECK(listed);

    const HttpResult one = http_request(port, "GET", "/v1/models/gpt-4o", {}, headers);
    REQUIRE(one.status == 200);
    CHECK(parse_json(one.body).at("id") == "gpt-4o");
    CHECK(http_request(port, "GET", "/v1/models/gpt-99", {}, headers).status == 404);
  }
}

}  // namespace rally::testing
