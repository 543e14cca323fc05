// The LLM routes' payloads: the seed's request bodies, answers and SSE events, and the translation between
// the OpenAI wire format and the llm-proxy's messages.
#include "gateway/routes/llm_payloads.h"

#include <boost/json.hpp>
#include <catch2/catch.hpp>
#include <chrono>
#include <string>

namespace rally::gateway::routes {
namespace {

namespace json = boost::json;
using namespace std::chrono_literals;

json::object data_of(const std::string& event, std::string_view prefix) {
  REQUIRE(event.starts_with(prefix));
  REQUIRE(event.ends_with("\n\n"));
  return json::parse(event.substr(prefix.size(), event.size() - prefix.size() - 2)).as_object();
}

google::protobuf::Duration duration_ms(std::int64_t ms) {
  google::protobuf::Duration duration;
  duration.set_seconds(ms / 1000);
  duration.set_nanos(static_cast<std::int32_t>(ms % 1000 * 1'000'000));
  return duration;
}

openai_wire::ChatRequest chat_with(std::vector<openai_wire::Message> messages) {
  openai_wire::ChatRequest chat;
  chat.model = "gpt-4o";
  chat.messages = std::move(messages);
  return chat;
}

TEST_CASE("seed requests need a message and default the model", "[llm_payloads]") {
  const auto parsed = parse_simple_request(R"({"message": "Hello", "model": "gpt-4o"})");
  REQUIRE(parsed.ok());
  CHECK(parsed->message == "Hello");
  CHECK(parsed->model == "gpt-4o");

  for (const char* body : {R"({"message": "Hi"})", R"({"message": "Hi", "model": null})"}) {
    INFO(body);
    const auto defaulted = parse_simple_request(body);
    REQUIRE(defaulted.ok());
    CHECK(defaulted->model == "gpt-3.5-turbo");
  }

  for (const char* body : {R"({})", R"({"message": ""})", R"({"message": " \t\n "})", R"({"message": 5})",
                           R"({"message": null})", R"({"model": "gpt-4o"})"}) {
    INFO(body);
    const auto rejected = parse_simple_request(body);
    REQUIRE_FALSE(rejected.ok());
    CHECK(rejected.error().code == common::ErrorCode::kInvalidRequest);
    CHECK(rejected.error().message == "Message is required");
  }

  for (const char* body : {"", "{", "[1]", R"("text")", "null", R"({"message": "Hi", "model": 3})"}) {
    INFO(body);
    const auto rejected = parse_simple_request(body);
    REQUIRE_FALSE(rejected.ok());
    CHECK(rejected.error().code == common::ErrorCode::kInvalidRequest);
    CHECK(rejected.error().message != "Message is required");
  }
}

TEST_CASE("a seed request becomes one user message from the gateway", "[llm_payloads]") {
  const v1::CompleteRequest request = complete_request_for(SimpleLlmRequest{"Hi there", "claude-x"});
  CHECK(request.model() == "claude-x");
  REQUIRE(request.messages_size() == 1);
  CHECK(request.messages(0).role() == v1::CHAT_ROLE_USER);
  CHECK(request.messages(0).content() == "Hi there");
  CHECK(request.caller() == "gateway");
  CHECK_FALSE(request.has_max_tokens());
  CHECK_FALSE(request.has_temperature());
}

TEST_CASE("the seed answer keeps message and response and adds what the proxy reported", "[llm_payloads]") {
  v1::CompleteResponse reply;
  reply.set_id("req_1");
  reply.set_model("gpt-4");
  reply.set_served_by("gpt-4-turbo");
  reply.set_text("Bright river.");
  reply.set_finish_reason(v1::FINISH_REASON_LENGTH);
  reply.mutable_usage()->set_prompt_tokens(3);
  reply.mutable_usage()->set_completion_tokens(4);
  reply.mutable_usage()->set_total_tokens(7);
  reply.set_simulated(true);
  const json::object body = json::parse(simple_response_body("Hi \"you\"", reply)).as_object();
  CHECK(body.at("message").as_string() == "Hi \"you\"");
  CHECK(body.at("response").as_string() == "Bright river.");
  CHECK(body.at("model").as_string() == "gpt-4");
  CHECK(body.at("served_by").as_string() == "gpt-4-turbo");
  CHECK(body.at("finish_reason").as_string() == "length");
  CHECK(body.at("usage").at("total_tokens").to_number<std::int64_t>() == 7);
  CHECK(body.at("simulated").as_bool());
}

TEST_CASE("SSE events of /llm_request_streaming", "[llm_payloads]") {
  CHECK(sse_delta_event("Line one\nline \"two\"", "gpt-4o") ==
        "data: {\"delta\":\"Line one\\nline \\\"two\\\"\",\"model\":\"gpt-4o\"}\n\n");
  CHECK(kSseHeartbeat == ": heartbeat\n\n");

  v1::StreamCompleteResponse::End end;
  end.set_model("gpt-4");
  end.set_served_by("gpt-4-turbo");
  end.set_finish_reason(v1::FINISH_REASON_STOP);
  end.mutable_usage()->set_completion_tokens(12);
  *end.mutable_timing()->mutable_total() = duration_ms(1500);
  *end.mutable_timing()->mutable_upstream() = duration_ms(1450);
  end.mutable_timing()->set_attempts(2);
  const json::object done = data_of(sse_done_event(end, 1.25), "event: done\ndata: ");
  CHECK(done.at("finish_reason").as_string() == "stop");
  CHECK(done.at("usage").at("completion_tokens").to_number<std::int64_t>() == 12);
  CHECK(done.at("served_by").as_string() == "gpt-4-turbo");
  CHECK(done.at("timing").at("total_ms").as_double() == 1500.0);
  CHECK(done.at("timing").at("upstream_ms").as_double() == 1450.0);
  CHECK(done.at("timing").at("attempts").to_number<std::int64_t>() == 2);
  CHECK(done.at("overhead_ms").as_double() == 1.25);

  const json::object error = data_of(
      sse_error_event(common::Error(common::ErrorCode::kUpstreamError, "It broke")), "event: error\ndata: ");
  CHECK(error == json::object{{"code", "UPSTREAM_ERROR"}, {"message", "It broke"}});
}

TEST_CASE("OpenAI chat requests translate to the llm-proxy's", "[llm_payloads]") {
  openai_wire::ChatRequest chat = chat_with({{"developer", "Be brief."},
                                             {"system", "Be kind."},
                                             {"user", "Hi"},
                                             {"assistant", "Hello"},
                                             {"user", "Reply in JSON"}});
  chat.temperature = 0.5;
  chat.top_p = 0.9;
  chat.max_tokens = 64;
  chat.stop = {"END", "STOP"};
  chat.response_format = openai_wire::ResponseFormat::kJsonSchema;
  const auto translated = complete_request_for(chat);
  REQUIRE(translated.ok());
  const v1::CompleteRequest& request = translated.value();
  CHECK(request.model() == "gpt-4o");
  REQUIRE(request.messages_size() == 5);
  CHECK(request.messages(0).role() == v1::CHAT_ROLE_SYSTEM);
  CHECK(request.messages(1).role() == v1::CHAT_ROLE_SYSTEM);
  CHECK(request.messages(2).role() == v1::CHAT_ROLE_USER);
  CHECK(request.messages(3).role() == v1::CHAT_ROLE_ASSISTANT);
  CHECK(request.messages(3).content() == "Hello");
  CHECK(request.temperature() == 0.5);
  CHECK(request.top_p() == 0.9);
  CHECK(request.max_tokens() == 64u);
  CHECK(request.stop_size() == 2);
  CHECK(request.response_format() == v1::RESPONSE_FORMAT_JSON_OBJECT);
  CHECK(request.caller() == "gateway");

  const auto plain = complete_request_for(chat_with({{"user", "Hi"}}));
  REQUIRE(plain.ok());
  CHECK_FALSE(plain->has_temperature());
  CHECK_FALSE(plain->has_top_p());
  CHECK_FALSE(plain->has_max_tokens());
  CHECK(plain->response_format() == v1::RESPONSE_FORMAT_UNSPECIFIED);

  openai_wire::ChatRequest text = chat_with({{"user", "Hi"}});
  text.response_format = openai_wire::ResponseFormat::kText;
  CHECK(complete_request_for(text)->response_format() == v1::RESPONSE_FORMAT_TEXT);
}

TEST_CASE("tool messages are refused in OpenAI's format", "[llm_payloads]") {
  const auto refused = complete_request_for(chat_with({{"user", "Hi"}, {"tool", "42"}}));
  REQUIRE_FALSE(refused.ok());
  const json::object error =
      json::parse(openai_wire::invalid_request_body(refused.error())).at("error").as_object();
  CHECK(error.at("param").as_string() == "messages[1].role");
  CHECK(error.at("code").as_string() == "unsupported_value");
  CHECK(error.at("type").as_string() == "invalid_request_error");
}

TEST_CASE("llm-proxy failures become OpenAI errors", "[llm_payloads]") {
  const common::Error unknown_model(
      common::ErrorCode::kInvalidRequest, "Unknown model 'gpt-9'. Available models: gpt-4o, gpt-4",
      {{"field", "model"}, {"model", "gpt-9"}, {"available_models", "gpt-4o, gpt-4"}});
  const OpenAiError not_found = openai_error_for(unknown_model, "gpt-9");
  CHECK(not_found.status == 404);
  CHECK(not_found.body() == openai_wire::model_not_found_body("gpt-9"));

  const OpenAiError invalid =
      openai_error_for(common::Error(common::ErrorCode::kInvalidRequest,
                                     "At least one user message is required", {{"field", "messages"}}),
                       "gpt-4o");
  CHECK(invalid.status == 400);
  CHECK(invalid.param == "messages");
  CHECK(invalid.type == "invalid_request_error");

  const OpenAiError upstream =
      openai_error_for(common::Error(common::ErrorCode::kUpstreamError, "Provider said no"), "m");
  CHECK(upstream.status == 502);
  CHECK(upstream.type == "server_error");
  CHECK(upstream.code == "upstream_error");
  CHECK(upstream.message == "Provider said no");
  const json::object event = data_of(upstream.event(), "data: ");
  CHECK(event.at("error").at("code").as_string() == "upstream_error");

  const OpenAiError timeout =
      openai_error_for(common::Error(common::ErrorCode::kApiTimeout, "Too slow"), "m");
  CHECK(timeout.status == 504);
  CHECK(timeout.code == "api_timeout");
  const OpenAiError limited =
      openai_error_for(common::Error(common::ErrorCode::kRateLimitExceeded, "Slow down"), "m");
  CHECK(limited.status == 429);
  CHECK(limited.type == "requests");
}

TEST_CASE("the model list shows enabled models and who serves them", "[llm_payloads]") {
  v1::ListModelsResponse response;
  const auto add = [&](std::string name, v1::ProviderKind provider, bool simulated, bool enabled) {
    v1::Model* model = response.add_models();
    model->set_name(std::move(name));
    model->set_provider(provider);
    model->set_simulated(simulated);
    model->set_enabled(enabled);
  };
  add("gpt-4o", v1::PROVIDER_KIND_OPENAI, false, true);
  add("claude-x", v1::PROVIDER_KIND_ANTHROPIC, true, true);
  add("old", v1::PROVIDER_KIND_OPENAI, false, false);
  add("local", v1::PROVIDER_KIND_OPENAI_COMPATIBLE, false, true);
  const std::vector<openai_wire::ModelEntry> entries = openai_models(response);
  REQUIRE(entries.size() == 3);
  CHECK(entries[0].id == "gpt-4o");
  CHECK(entries[0].owned_by == "openai");
  CHECK(entries[1].owned_by == "llamarally-simulator");
  CHECK(entries[2].id == "local");
  CHECK(entries[2].owned_by == "openai-compatible");
}

TEST_CASE("overhead is the gateway's time minus the providers'", "[llm_payloads]") {
  CHECK(to_milliseconds(duration_ms(1234)) == 1234.0);
  CHECK(overhead_ms(1500ms, duration_ms(1450)) == 50.0);
  CHECK(overhead_ms(10ms, duration_ms(20)) == 0.0);  // clocks of two processes: never negative
  CHECK(overhead_ms(3ms, google::protobuf::Duration()) == 3.0);
  CHECK(format_milliseconds(3.14159) == "3.14");
  CHECK(format_milliseconds(0) == "0.00");
}

}  // namespace
}  // namespace rally::gateway::routes

namespace rally::gateway::routes {
namespace {

TEST_CASE("a seed request with bytes that are not UTF-8 names the field", "[llm_payloads]") {
  const auto parsed = parse_simple_request("{\"message\":\"hi \xFF\"}");
  REQUIRE_FALSE(parsed.ok());
  CHECK(parsed.error().code == common::ErrorCode::kInvalidRequest);
  bool named = false;
  for (const auto& [name, value] : parsed.error().details) {
    if (name == "field") named = value == "message";
  }
  CHECK(named);
}

}  // namespace
}  // namespace rally::gateway::routes
