// The simulator over real sockets: both APIs byte by byte and event by event, errors, every fault kind,
// and the server noticing promptly that a client hung up (mid-stall and mid-stream).
#include "services/llm-proxy/simulator/simulator_server.h"

#include <boost/json.hpp>
#include <catch2/catch.hpp>
#include <chrono>
#include <string>
#include <thread>

#include "services/llm-proxy/domain/sse_parser.h"
#include "services/llm-proxy/simulator/simulator_settings.h"
#include "tests/support/process.h"
#include "tests/unit/llm-proxy/simulator/raw_http_client.h"

namespace sim = rally::llm_simulator;
namespace json = boost::json;
using rally::llm_simulator::testing::Connection;
using rally::llm_simulator::testing::Headers;
using rally::llm_simulator::testing::ParsedResponse;
using rally::llm_simulator::testing::request_text;
using rally::llm_simulator::testing::split_events;
using std::chrono::milliseconds;
using SteadyClock = std::chrono::steady_clock;

namespace {

const Headers kOpenAi = {{"Authorization", "Bearer sk-test"}, {"Content-Type", "application/json"}};
const Headers kAnthropic = {
    {"x-api-key", "sk-ant-test"}, {"anthropic-version", "2023-06-01"}, {"content-type", "application/json"}};

constexpr const char* kChat = R"({"model": "gpt-4o", "messages": [
    {"role": "system", "content": "You are terse."}, {"role": "user", "content": "Name three rivers."}]})";
constexpr const char* kStreamingChat =
    R"({"model": "gpt-4o", "stream": true, "stream_options": {"include_usage": true},
    "messages": [{"role": "system", "content": "You are terse."}, {"role": "user", "content": "Name three rivers."}]})";
constexpr const char* kMessages = R"({"model": "claude-3-5-haiku-latest", "max_tokens": 1024,
    "system": "You are terse.", "messages": [{"role": "user", "content": "Name three rivers."}]})";
constexpr const char* kStreamingMessages =
    R"({"model": "claude-3-5-haiku-latest", "max_tokens": 1024, "stream": true,
    "system": "You are terse.", "messages": [{"role": "user", "content": "Name three rivers."}]})";

// An in-process simulator on a free port, unpaced unless a test asks for pacing per request.
struct Simulator {
  static sim::SimulatorSettings settings() {
    sim::SimulatorSettings settings;
    settings.listen = {"127.0.0.1", 0};
    settings.ttft = milliseconds(0);
    settings.tokens_per_second = 0;
    settings.io_timeout = milliseconds(5000);
    settings.body_limit = std::uint64_t{64} << 10;
    return settings;
  }

  explicit Simulator(const sim::SimulatorSettings& s = settings()) : server(s), port(server.port()) {}

  ParsedResponse call(std::string_view method, std::string_view target, const Headers& headers = {},
                      std::string_view body = {}) const {
    Connection connection(port);
    connection.send(request_text(method, target, headers, body));
    return connection.read_response();
  }

  json::array request_log() const { return json::parse(call("GET", "/_sim/requests").body).as_array(); }

  json::object log_entry(std::int64_t id) const {
    for (const auto& entry : request_log()) {
      if (entry.at("id").as_int64() == id) return entry.as_object();
    }
    FAIL("no request log entry " << id);
    return {};
  }

  // Polls the request log until entry `id` has the outcome (the server records it asynchronously).
  json::object wait_for_outcome(std::int64_t id, std::string_view outcome,
                                milliseconds timeout = milliseconds(2000)) {
    json::object entry;
    rally::testing::wait_until(
        [&] {
          entry = log_entry(id);
          return entry.at("outcome").as_string() == outcome;
        },
        timeout);
    return entry;
  }

  void arm(std::string_view fault) const {
    const auto response = call("POST", "/_sim/faults", {}, fault);
    REQUIRE(response.status == 201);
  }

  sim::SimulatorServer server;
  int port;
};

std::vector<std::string> data_lines(const std::vector<std::string>& events) {
  std::vector<std::string> data;
  for (const auto& event : events) {
    REQUIRE(event.starts_with("data: "));
    data.push_back(event.substr(6));
  }
  return data;
}

std::string event_name(const std::string& event) {
  REQUIRE(event.starts_with("event: "));
  return event.substr(7, event.find('\n') - 7);
}

json::value event_data(const std::string& event) {
  const std::size_t data = event.find("\ndata: ");
  REQUIRE(data != std::string::npos);
  return json::parse(event.substr(data + 7));
}

std::int64_t request_id(const ParsedResponse& response) {
  return std::stoll(response.header("x-sim-request-id"));
}

}  // namespace

TEST_CASE("OpenAI chat completion, field by field") {
  Simulator simulator;
  const auto before = std::chrono::system_clock::now();
  const auto response = simulator.call("POST", "/v1/chat/completions", kOpenAi, kChat);
  REQUIRE(response.status == 200);
  CHECK(response.header("content-type") == "application/json");
  CHECK(std::stoul(response.header("content-length")) == response.body.size());
  CHECK(response.header("x-request-id").starts_with("req_"));

  const auto body = json::parse(response.body).as_object();
  CHECK(body.size() == 7);
  CHECK(body.at("id").as_string().starts_with("chatcmpl-"));
  CHECK(body.at("object").as_string() == "chat.completion");
  const auto created = body.at("created").as_int64();
  CHECK(std::abs(created -
                 std::chrono::duration_cast<std::chrono::seconds>(before.time_since_epoch()).count()) <= 2);
  CHECK(body.at("model").as_string() == "gpt-4o");
  CHECK(body.at("system_fingerprint").as_string().starts_with("fp_"));
  const auto& choices = body.at("choices").as_array();
  REQUIRE(choices.size() == 1);
  CHECK(choices[0].at("index").as_int64() == 0);
  CHECK(choices[0].at("message").at("role").as_string() == "assistant");
  CHECK(choices[0].at("message").at("content").as_string().size() > 20);
  CHECK(choices[0].at("message").at("refusal").is_null());
  CHECK(choices[0].at("logprobs").is_null());
  CHECK(choices[0].at("finish_reason").as_string() == "stop");
  const auto& usage = body.at("usage").as_object();
  CHECK(usage.at("prompt_tokens").as_int64() == 8);  // (14 + 18) characters / 4
  CHECK(usage.at("completion_tokens").as_int64() >= 20);
  CHECK(usage.at("total_tokens").as_int64() ==
        usage.at("prompt_tokens").as_int64() + usage.at("completion_tokens").as_int64());

  const auto again = json::parse(simulator.call("POST", "/v1/chat/completions", kOpenAi, kChat).body);
  CHECK(again.at("choices") == body.at("choices"));
  CHECK(again.at("id") != body.at("id"));
}

TEST_CASE("OpenAI stream, event by event, to DONE") {
  Simulator simulator;
  const auto response = simulator.call("POST", "/v1/chat/completions", kOpenAi, kStreamingChat);
  REQUIRE(response.status == 200);
  REQUIRE(response.complete);
  CHECK(response.chunked);
  CHECK(response.header("content-type") == "text/event-stream; charset=utf-8");
  CHECK(response.header("cache-control") == "no-cache");

  // One event per chunk, each a single data line.
  const auto events = split_events(response.body);
  REQUIRE(events.size() == response.chunks.size());
  for (std::size_t i = 0; i < events.size(); ++i) CHECK(response.chunks[i] == events[i] + "\n\n");
  const auto data = data_lines(events);
  REQUIRE(data.size() >= 5);
  CHECK(data.back() == "[DONE]");

  const auto first = json::parse(data[0]).as_object();
  const std::string id(first.at("id").as_string());
  CHECK(first.at("object").as_string() == "chat.completion.chunk");
  CHECK(first.at("choices").at(0).at("delta") == json::parse(R"({"role":"assistant","content":""})"));
  CHECK(first.at("usage").is_null());

  std::string text;
  for (std::size_t i = 1; i + 3 < data.size(); ++i) {
    const auto chunk = json::parse(data[i]).as_object();
    CHECK(chunk.at("id").as_string() == id);
    CHECK(chunk.at("usage").is_null());
    const auto& choice = chunk.at("choices").at(0).as_object();
    CHECK(choice.at("finish_reason").is_null());
    CHECK(choice.at("delta").as_object().size() == 1);
    text += choice.at("delta").at("content").as_string();
  }
  const auto finish = json::parse(data[data.size() - 3]).as_object();
  CHECK(finish.at("choices").at(0).at("delta").as_object().empty());
  CHECK(finish.at("choices").at(0).at("finish_reason").as_string() == "stop");
  CHECK(finish.at("usage").is_null());
  const auto usage = json::parse(data[data.size() - 2]).as_object();
  CHECK(usage.at("choices").as_array().empty());
  CHECK(usage.at("usage").at("prompt_tokens").as_int64() == 8);

  // The same conversation without streaming gives the same text.
  const auto whole = json::parse(simulator.call("POST", "/v1/chat/completions", kOpenAi, kChat).body);
  CHECK(text == whole.at("choices").at(0).at("message").at("content").as_string());
  CHECK(usage.at("usage") == whole.at("usage"));

  // The llm-proxy's own SSE parser reads the stream the same way.
  rally::llm_proxy::SseParser parser;
  std::vector<rally::llm_proxy::SseEvent> parsed;
  REQUIRE(parser.feed(response.body, parsed));
  CHECK(parsed.size() == data.size());
  CHECK(parsed.back().data == "[DONE]");
  CHECK_FALSE(parser.has_partial_event());
}

TEST_CASE("OpenAI stream without include_usage, with max_tokens and stop over the wire") {
  Simulator simulator;
  const auto response = simulator.call(
      "POST", "/v1/chat/completions", kOpenAi,
      R"({"model": "gpt-4o", "stream": true, "max_tokens": 7, "messages": [{"role": "user", "content": "Go on"}]})");
  const auto data = data_lines(split_events(response.body));
  for (const auto& line : data) CHECK(line.find("usage") == std::string::npos);
  CHECK(json::parse(data[data.size() - 2]).at("choices").at(0).at("finish_reason").as_string() == "length");

  const auto stopped = json::parse(
      simulator
          .call("POST", "/v1/chat/completions", kOpenAi,
                R"({"model": "gpt-4o", "stop": ".", "messages": [{"role": "user", "content": "Go on"}]})")
          .body);
  const std::string content(stopped.at("choices").at(0).at("message").at("content").as_string());
  CHECK(content.find('.') == std::string::npos);
  CHECK(stopped.at("choices").at(0).at("finish_reason").as_string() == "stop");
}

TEST_CASE("Anthropic message, field by field") {
  Simulator simulator;
  const auto response = simulator.call("POST", "/v1/messages", kAnthropic, kMessages);
  REQUIRE(response.status == 200);
  CHECK(response.header("content-type") == "application/json");
  CHECK(response.header("request-id").starts_with("req_01"));
  const auto body = json::parse(response.body).as_object();
  CHECK(body.size() == 8);
  CHECK(body.at("id").as_string().starts_with("msg_01"));
  CHECK(body.at("type").as_string() == "message");
  CHECK(body.at("role").as_string() == "assistant");
  CHECK(body.at("model").as_string() == "claude-3-5-haiku-latest");
  const auto& content = body.at("content").as_array();
  REQUIRE(content.size() == 1);
  CHECK(content[0].at("type").as_string() == "text");
  CHECK(content[0].at("text").as_string().size() > 20);
  CHECK(body.at("stop_reason").as_string() == "end_turn");
  CHECK(body.at("stop_sequence").is_null());
  CHECK(body.at("usage").at("input_tokens").as_int64() == 8);
  CHECK(body.at("usage").at("output_tokens").as_int64() >= 20);

  const auto limited = json::parse(simulator
                                       .call("POST", "/v1/messages", kAnthropic,
                                             R"({"model": "c", "max_tokens": 3, "stop_sequences": ["zzz"],
                                                 "messages": [{"role": "user", "content": "Hi"}]})")
                                       .body);
  CHECK(limited.at("stop_reason").as_string() == "max_tokens");
  CHECK(limited.at("usage").at("output_tokens").as_int64() == 3);
}

TEST_CASE("Anthropic stream, event by event, in the documented order") {
  Simulator simulator;
  const auto response = simulator.call("POST", "/v1/messages", kAnthropic, kStreamingMessages);
  REQUIRE(response.status == 200);
  REQUIRE(response.complete);
  CHECK(response.header("content-type") == "text/event-stream; charset=utf-8");
  const auto events = split_events(response.body);
  REQUIRE(events.size() >= 7);
  CHECK(event_name(events[0]) == "message_start");
  const auto start = event_data(events[0]).at("message");
  CHECK(start.at("id").as_string().starts_with("msg_01"));
  CHECK(start.at("content").as_array().empty());
  CHECK(start.at("stop_reason").is_null());
  CHECK(start.at("usage").at("input_tokens").as_int64() == 8);
  CHECK(event_name(events[1]) == "content_block_start");
  CHECK(event_data(events[1]).at("content_block") == json::parse(R"({"type":"text","text":""})"));
  CHECK(events[2] == "event: ping\ndata: {\"type\": \"ping\"}");

  std::string text;
  std::size_t i = 3;
  for (; event_name(events[i]) == "content_block_delta"; ++i) {
    const auto delta = event_data(events[i]);
    CHECK(delta.at("index").as_int64() == 0);
    CHECK(delta.at("delta").at("type").as_string() == "text_delta");
    text += delta.at("delta").at("text").as_string();
  }
  REQUIRE(i + 3 == events.size());
  CHECK(event_name(events[i]) == "content_block_stop");
  CHECK(event_name(events[i + 1]) == "message_delta");
  const auto delta = event_data(events[i + 1]);
  CHECK(delta.at("delta").at("stop_reason").as_string() == "end_turn");
  CHECK(delta.at("delta").at("stop_sequence").is_null());
  CHECK(event_name(events[i + 2]) == "message_stop");

  const auto whole = json::parse(simulator.call("POST", "/v1/messages", kAnthropic, kMessages).body);
  CHECK(text == whole.at("content").at(0).at("text").as_string());
  CHECK(delta.at("usage").at("output_tokens") == whole.at("usage").at("output_tokens"));
}

TEST_CASE("authentication and validation errors in each provider's format") {
  sim::SimulatorSettings settings = Simulator::settings();
  settings.api_key = "sk-the-one-key";
  Simulator simulator(settings);
  const auto no_key = simulator.call("POST", "/v1/chat/completions", {}, kChat);
  CHECK(no_key.status == 401);
  CHECK(json::parse(no_key.body).at("error").at("type").as_string() == "invalid_request_error");
  const auto wrong_key = simulator.call("POST", "/v1/chat/completions", kOpenAi, kChat);
  CHECK(wrong_key.status == 401);
  CHECK(json::parse(wrong_key.body).at("error").at("code").as_string() == "invalid_api_key");
  CHECK(simulator.call("POST", "/v1/chat/completions", {{"Authorization", "Bearer sk-the-one-key"}}, kChat)
            .status == 200);

  const auto anthropic_key = simulator.call("POST", "/v1/messages", kAnthropic, kMessages);
  CHECK(anthropic_key.status == 401);
  CHECK(anthropic_key.body ==
        R"({"type":"error","error":{"type":"authentication_error","message":"invalid x-api-key"}})");
  const Headers right = {{"x-api-key", "sk-the-one-key"}, {"anthropic-version", "2023-06-01"}};
  CHECK(simulator.call("POST", "/v1/messages", {{"x-api-key", "sk-the-one-key"}}, kMessages).status == 400);
  const auto no_max_tokens = simulator.call(
      "POST", "/v1/messages", right, R"({"model": "c", "messages": [{"role": "user", "content": "x"}]})");
  CHECK(no_max_tokens.status == 400);
  CHECK(
      no_max_tokens.body ==
      R"({"type":"error","error":{"type":"invalid_request_error","message":"max_tokens: Field required"}})");
  CHECK(simulator.call("POST", "/v1/messages", right, "{oops").status == 400);
  CHECK(simulator.call("POST", "/v1/chat/completions", {{"Authorization", "Bearer sk-the-one-key"}}, "{oops")
            .status == 400);
  const auto unknown = simulator.call("GET", "/v1/nothing-here");
  CHECK(unknown.status == 404);
  CHECK(json::parse(unknown.body).at("error").at("message").as_string() ==
        "Invalid URL (GET /v1/nothing-here)");
}

TEST_CASE("keep-alive connections serve many requests, pipelined ones included") {
  Simulator simulator;
  Connection connection(simulator.port);
  for (int i = 0; i < 3; ++i) {
    connection.send(request_text("POST", "/v1/chat/completions", kOpenAi, kChat));
    CHECK(connection.read_response().status == 200);
  }
  // Two requests in one write: the second arrives while the first is being answered.
  connection.send(request_text("POST", "/v1/chat/completions", kOpenAi, kStreamingChat) +
                  request_text("GET", "/healthz"));
  const auto streamed = connection.read_response();
  CHECK(streamed.complete);
  CHECK(split_events(streamed.body).back() == "data: [DONE]");
  const auto health = connection.read_response();
  CHECK(health.status == 200);
  CHECK(health.body == "ok\n");
  CHECK_FALSE(connection.peer_closed());
}

TEST_CASE("HTTP-level hardening: garbage, oversized bodies and heads, 100-continue") {
  Simulator simulator;
  SECTION("a request that is not HTTP gets 400 and the connection closes") {
    Connection connection(simulator.port);
    connection.send("HELLO THERE\r\n\r\n");
    const auto response = connection.read_response();
    CHECK(response.status == 400);
    CHECK(json::parse(response.body).at("error").is_object());
    CHECK(connection.wait_for_close(milliseconds(3000)));
  }
  SECTION("a body over the limit gets 413 in the provider's format before it is read") {
    Connection connection(simulator.port);
    connection.send("POST /v1/messages HTTP/1.1\r\nHost: x\r\nContent-Length: 10000000\r\n\r\n{");
    const auto response = connection.read_response();
    CHECK(response.status == 413);
    CHECK(json::parse(response.body).at("error").at("type").as_string() == "request_too_large");
    CHECK(response.header("connection") == "close");
    CHECK(connection.wait_for_close(milliseconds(3000)));
  }
  SECTION("a head over the limit gets 431") {
    Connection connection(simulator.port);
    connection.send("GET /v1/models HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(70000, 'a') + "\r\n\r\n");
    CHECK(connection.read_response().status == 431);
  }
  SECTION("Expect: 100-continue is answered before the body is sent") {
    Connection connection(simulator.port);
    const std::string body = kChat;
    connection.send(
        "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer k\r\nExpect: 100-continue\r\n"
        "Content-Length: " +
        std::to_string(body.size()) + "\r\n\r\n");
    REQUIRE(connection.read_until(
        [](std::string_view raw) { return raw.find("\r\n\r\n") != std::string_view::npos; },
        milliseconds(3000)));
    CHECK(connection.received().starts_with("HTTP/1.1 100 Continue\r\n\r\n"));
    connection.send(body);
    connection.read_until(
        [](std::string_view raw) { return raw.find("HTTP/1.1 200") != std::string_view::npos; },
        milliseconds(3000));
    CHECK(connection.received().find("HTTP/1.1 200 OK") != std::string::npos);
  }
}

TEST_CASE("status faults answer with the provider's error and Retry-After") {
  Simulator simulator;
  simulator.arm(R"({"model": "gpt-4o", "count": 2, "fault": {"status": 429, "retry_after": 3}})");
  for (int i = 0; i < 2; ++i) {
    const auto limited = simulator.call("POST", "/v1/chat/completions", kOpenAi, kStreamingChat);
    CHECK(limited.status == 429);
    CHECK(limited.header("retry-after") == "3");
    CHECK(limited.header("content-type") == "application/json");
    CHECK(json::parse(limited.body).at("error").at("code").as_string() == "rate_limit_exceeded");
    CHECK(simulator.wait_for_outcome(request_id(limited), "fault:status").at("status").as_int64() == 429);
  }
  CHECK(simulator.call("POST", "/v1/chat/completions", kOpenAi, kChat).status == 200);

  simulator.arm(R"({"model": "claude-*", "fault": {"status": 529}})");
  const auto overloaded = simulator.call("POST", "/v1/messages", kAnthropic, kStreamingMessages);
  CHECK(overloaded.status == 529);
  CHECK(json::parse(overloaded.body).at("error").at("type").as_string() == "overloaded_error");
  simulator.arm(R"({"fault": {"status": 500}})");
  const auto server_error = simulator.call("POST", "/v1/messages", kAnthropic, kMessages);
  CHECK(server_error.status == 500);
  CHECK(json::parse(server_error.body).at("error").at("type").as_string() == "api_error");
}

TEST_CASE("a stall fault sends nothing until it ends") {
  Simulator simulator;
  simulator.arm(R"({"fault": {"stall_before_first_byte_ms": 400}})");
  Connection connection(simulator.port);
  const auto start = SteadyClock::now();
  connection.send(request_text("POST", "/v1/chat/completions", kOpenAi, kStreamingChat));
  CHECK_FALSE(connection.read_until([](std::string_view raw) { return !raw.empty(); }, milliseconds(250)));
  const auto response = connection.read_response();
  CHECK(SteadyClock::now() - start >= milliseconds(400));
  CHECK(response.complete);
  simulator.wait_for_outcome(request_id(response), "fault:stall_before_first_byte");
}

TEST_CASE("drop_after_chunks closes the connection mid-stream without the last chunk") {
  Simulator simulator;
  simulator.arm(R"({"fault": {"drop_after_chunks": 2}})");
  Connection connection(simulator.port);
  connection.send(request_text("POST", "/v1/chat/completions", kOpenAi, kStreamingChat));
  CHECK(connection.wait_for_close(milliseconds(3000)));
  const auto response = *rally::llm_simulator::testing::parse_response(connection.received());
  CHECK(response.status == 200);
  CHECK_FALSE(response.complete);
  const auto data = data_lines(split_events(response.body));
  REQUIRE(data.size() == 3);  // the role chunk and two content chunks
  CHECK(json::parse(data[2]).at("choices").at(0).at("delta").as_object().contains("content"));
  const auto entry = simulator.wait_for_outcome(request_id(response), "fault:drop_after_chunks");
  CHECK(entry.at("chunks_sent").as_int64() == 2);

  simulator.arm(R"({"fault": {"drop_after_chunks": 0}})");
  Connection plain(simulator.port);
  plain.send(request_text("POST", "/v1/messages", kAnthropic, kMessages));
  CHECK(plain.wait_for_close(milliseconds(3000)));
  CHECK(plain.received().empty());  // non-streaming: no response at all
}

TEST_CASE("malformed_event_after_chunks sends a data line that is not JSON") {
  Simulator simulator;
  simulator.arm(R"({"fault": {"malformed_event_after_chunks": 1}})");
  const auto response = simulator.call("POST", "/v1/chat/completions", kOpenAi, kStreamingChat);
  CHECK(response.complete);
  const auto data = data_lines(split_events(response.body));
  REQUIRE(data.size() == 3);
  boost::system::error_code ec;
  json::parse(data[2], ec);
  CHECK(ec);
  CHECK(response.body.find("[DONE]") == std::string::npos);
  simulator.wait_for_outcome(request_id(response), "fault:malformed_event");

  simulator.arm(R"({"fault": {"malformed_event_after_chunks": 2}})");
  const auto anthropic = simulator.call("POST", "/v1/messages", kAnthropic, kStreamingMessages);
  const auto events = split_events(anthropic.body);
  CHECK(event_name(events.back()) == "content_block_delta");
  json::parse(events.back().substr(events.back().find("data: ") + 6), ec);
  CHECK(ec);
}

TEST_CASE("error_event_after_chunks sends the provider's mid-stream error") {
  Simulator simulator;
  simulator.arm(R"({"model": "gpt-4o", "fault": {"error_event_after_chunks": 2}})");
  const auto openai = simulator.call("POST", "/v1/chat/completions", kOpenAi, kStreamingChat);
  const auto data = data_lines(split_events(openai.body));
  REQUIRE(data.size() == 4);
  CHECK(json::parse(data.back()).at("error").at("type").as_string() == "server_error");

  simulator.arm(R"({"model": "claude-*", "fault": {"error_event_after_chunks": 1}})");
  const auto anthropic = simulator.call("POST", "/v1/messages", kAnthropic, kStreamingMessages);
  CHECK(anthropic.status == 200);
  const auto events = split_events(anthropic.body);
  REQUIRE(events.size() == 5);  // message_start, content_block_start, ping, one delta, error
  CHECK(event_name(events.back()) == "error");
  CHECK(event_data(events.back()) ==
        json::parse(R"({"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}})"));
  simulator.wait_for_outcome(request_id(anthropic), "fault:error_event");
}

TEST_CASE("a client that hangs up during a stall is noticed at once") {
  Simulator simulator;
  simulator.arm(R"({"count": 2, "fault": {"stall_before_first_byte_ms": 100000000000}})");
  for (const bool reset : {false, true}) {
    INFO((reset ? "reset" : "FIN"));
    auto connection = std::make_unique<Connection>(simulator.port);
    connection->send(request_text("POST", "/v1/chat/completions", kOpenAi, kStreamingChat));
    std::int64_t id = 0;
    REQUIRE(rally::testing::wait_until(
        [&] {
          const auto log = simulator.request_log();
          if (log.empty() || log.back().at("outcome").as_string() != "in_progress") return false;
          id = log.back().at("id").as_int64();
          return true;
        },
        milliseconds(2000)));
    const auto hung_up = SteadyClock::now();
    reset ? connection->reset() : connection->close();
    const auto entry = simulator.wait_for_outcome(id, "client_closed", milliseconds(1000));
    CHECK(entry.at("outcome").as_string() == "client_closed");
    CHECK(SteadyClock::now() - hung_up < milliseconds(1000));
    CHECK(entry.at("chunks_sent").as_int64() == 0);
    CHECK(entry.at("fault").as_string() == "stall_before_first_byte");
    CHECK(entry.at("ended_at").is_string());
    CHECK(simulator.request_log().size() == static_cast<std::size_t>(id));
  }
}

TEST_CASE("a client that hangs up mid-stream is noticed and the stream stops") {
  Simulator simulator;
  for (const char* path : {"/v1/chat/completions", "/v1/messages"}) {
    INFO(path);
    const bool openai = std::string_view(path) == "/v1/chat/completions";
    Headers headers = openai ? kOpenAi : kAnthropic;
    headers.emplace_back("x-sim-ttft-ms", "0");
    headers.emplace_back("x-sim-tokens-per-second", "20");
    Connection connection(simulator.port);
    connection.send(request_text("POST", path, headers, openai ? kStreamingChat : kStreamingMessages));
    // Wait for two content events, then leave.
    const std::string marker = openai ? "\"content\":\"" : "text_delta";
    REQUIRE(connection.read_until(
        [&](std::string_view raw) {
          std::size_t count = 0;
          for (std::size_t at = raw.find(marker); at != std::string_view::npos; at = raw.find(marker, at + 1))
            ++count;
          return count >= (openai ? 3u : 2u);  // OpenAI's role chunk carries "content":"" too
        },
        milliseconds(3000)));
    const auto response = *rally::llm_simulator::testing::parse_response(connection.received());
    connection.close();
    const auto entry = simulator.wait_for_outcome(request_id(response), "client_closed", milliseconds(1000));
    CHECK(entry.at("outcome").as_string() == "client_closed");
    const auto sent = entry.at("chunks_sent").as_int64();
    CHECK(sent >= 2);
    CHECK(sent <= 4);
    std::this_thread::sleep_for(milliseconds(200));  // nothing more is written after the hang-up
    CHECK(simulator.log_entry(request_id(response)).at("chunks_sent").as_int64() == sent);
  }
}

TEST_CASE("pacing: time to first token and tokens per second from request headers") {
  Simulator simulator;
  Headers headers = kOpenAi;
  headers.emplace_back("x-sim-ttft-ms", "300");
  headers.emplace_back("x-sim-tokens-per-second", "100");
  Connection connection(simulator.port);
  const auto start = SteadyClock::now();
  connection.send(request_text("POST", "/v1/chat/completions", headers,
                               R"({"model": "gpt-4o", "stream": true, "max_tokens": 30,
                                   "messages": [{"role": "user", "content": "Pace yourself"}]})"));
  // The head and the role chunk come at once; the first content after the TTFT.
  REQUIRE(connection.read_until(
      [](std::string_view raw) { return raw.find("\"role\"") != std::string_view::npos; },
      milliseconds(2000)));
  CHECK(SteadyClock::now() - start < milliseconds(250));
  REQUIRE(connection.read_until(
      [](std::string_view raw) {
        return raw.find("\"content\":\"", raw.find("\"role\"") + 40) != std::string_view::npos;
      },
      milliseconds(2000)));
  const auto first_token = SteadyClock::now() - start;
  CHECK(first_token >= milliseconds(300));
  CHECK(first_token < milliseconds(1000));
  const auto response = connection.read_response();
  const auto total = SteadyClock::now() - start;
  CHECK(response.complete);
  // 30 tokens: the last is ready 29 / 100 s after the first.
  CHECK(total >= milliseconds(300 + 290));
  CHECK(total < milliseconds(3000));
}

TEST_CASE("the control API: listing, clearing, and bad requests") {
  Simulator simulator;
  simulator.arm(R"({"model": "a", "count": 3, "fault": {"status": 503}})");
  const auto faults = json::parse(simulator.call("GET", "/_sim/faults").body).as_array();
  REQUIRE(faults.size() == 1);
  CHECK(faults[0].at("remaining").as_int64() == 3);
  CHECK(simulator.call("DELETE", "/_sim/faults").status == 200);
  CHECK(json::parse(simulator.call("GET", "/_sim/faults").body).as_array().empty());
  const auto bad = simulator.call("POST", "/_sim/faults", {}, R"({"fault": {"status": 42}})");
  CHECK(bad.status == 400);
  CHECK_THAT(std::string(json::parse(bad.body).at("error").at("message").as_string()),
             Catch::Contains("fault.status"));

  simulator.call("POST", "/v1/chat/completions", kOpenAi, kChat);
  CHECK(simulator.request_log().size() == 1);
  CHECK(simulator.call("DELETE", "/_sim/requests").body == R"({"deleted":1})");
  CHECK(simulator.request_log().empty());
  CHECK(simulator.call("PUT", "/_sim/requests").status == 405);
}
