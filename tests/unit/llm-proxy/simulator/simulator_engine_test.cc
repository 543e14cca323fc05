// The engine decides every byte and every due time without sockets: auth, validation, pacing, faults,
// the control API and the request log, checked here directly (the server tests check the wire).
#include "services/llm-proxy/simulator/simulator_engine.h"

#include <boost/json.hpp>
#include <catch2/catch.hpp>
#include <iterator>
#include <string>

#include "services/llm-proxy/simulator/text_generator.h"

namespace sim = rally::llm_simulator;
namespace json = boost::json;
using std::chrono::microseconds;
using std::chrono::milliseconds;

namespace {

const auto kNow = std::chrono::system_clock::time_point(std::chrono::seconds(1'800'000'000));

sim::SimulatorSettings test_settings() {
  sim::SimulatorSettings settings;
  settings.ttft = milliseconds(100);
  settings.tokens_per_second = 100;  // 10 ms per token
  return settings;
}

sim::HttpRequest openai_request(std::string body,
                                std::vector<std::pair<std::string, std::string>> extra = {}) {
  sim::HttpRequest request{
      "POST", "/v1/chat/completions", {{"authorization", "Bearer sk-test"}}, std::move(body)};
  for (auto& header : extra) request.headers.push_back(std::move(header));
  return request;
}

sim::HttpRequest anthropic_request(std::string body) {
  return {"POST",
          "/v1/messages",
          {{"x-api-key", "sk-ant-test"}, {"anthropic-version", "2023-06-01"}},
          std::move(body)};
}

std::string header(const sim::Exchange& exchange, std::string_view name) {
  for (const auto& [key, value] : exchange.headers) {
    if (key == name) return value;
  }
  return {};
}

json::value body_json(const sim::Exchange& exchange) {
  return json::parse(exchange.body);
}

json::value arm(sim::SimulatorEngine& engine, std::string fault_json) {
  const auto exchange = engine.handle({"POST", "/_sim/faults", {}, std::move(fault_json)}, kNow);
  REQUIRE(exchange.status == 201);
  return body_json(exchange);
}

constexpr const char* kStreamingChat =
    R"({"model": "gpt-4o", "stream": true, "stream_options": {"include_usage": true},
        "messages": [{"role": "user", "content": "Count to three"}]})";
constexpr const char* kChat =
    R"({"model": "gpt-4o", "messages": [{"role": "user", "content": "Count to three"}]})";
constexpr const char* kStreamingMessages =
    R"({"model": "claude-3-5-haiku-latest", "max_tokens": 64, "stream": true,
        "messages": [{"role": "user", "content": "Count to three"}]})";

}  // namespace

TEST_CASE("OpenAI keys: missing, malformed and wrong keys are 401s in OpenAI's format") {
  sim::SimulatorSettings settings = test_settings();
  settings.api_key = "sk-right-key-123456";
  sim::SimulatorEngine engine(settings);

  const auto missing = engine.handle({"POST", "/v1/chat/completions", {}, kChat}, kNow);
  CHECK(missing.status == 401);
  CHECK_THAT(std::string(body_json(missing).at("error").at("message").as_string()),
             Catch::StartsWith("You didn't provide an API key"));
  CHECK(body_json(missing).at("error").at("code").is_null());

  const auto basic =
      engine.handle({"POST", "/v1/chat/completions", {{"authorization", "Basic abc"}}, kChat}, kNow);
  CHECK(basic.status == 401);

  const auto wrong = engine.handle(openai_request(kChat), kNow);
  CHECK(wrong.status == 401);
  const auto error = body_json(wrong).at("error");
  CHECK(error.at("code").as_string() == "invalid_api_key");
  CHECK(error.at("type").as_string() == "invalid_request_error");
  CHECK_THAT(std::string(error.at("message").as_string()),
             Catch::StartsWith("Incorrect API key provided: *******."));

  // Long keys show their first three and last four characters, as OpenAI's message does.
  const auto long_key = engine.handle(
      {"POST", "/v1/chat/completions", {{"authorization", "Bearer sk-proj-abcdefghijkl"}}, kChat}, kNow);
  CHECK_THAT(std::string(body_json(long_key).at("error").at("message").as_string()),
             Catch::Contains("sk-" + std::string(13, '*') + "ijkl."));

  const auto right = engine.handle(
      {"POST", "/v1/chat/completions", {{"authorization", "bearer sk-right-key-123456"}}, kChat}, kNow);
  CHECK(right.status == 200);
}

TEST_CASE("Anthropic headers: x-api-key and anthropic-version are required") {
  sim::SimulatorEngine engine(test_settings());
  const std::string body =
      R"({"model": "c", "max_tokens": 5, "messages": [{"role": "user", "content": "x"}]})";
  const auto no_key =
      engine.handle({"POST", "/v1/messages", {{"anthropic-version", "2023-06-01"}}, body}, kNow);
  CHECK(no_key.status == 401);
  CHECK(
      no_key.body ==
      R"({"type":"error","error":{"type":"authentication_error","message":"x-api-key header is required"}})");
  const auto no_version = engine.handle({"POST", "/v1/messages", {{"x-api-key", "k"}}, body}, kNow);
  CHECK(no_version.status == 400);
  CHECK(body_json(no_version).at("error").at("type").as_string() == "invalid_request_error");
  CHECK(engine.handle(anthropic_request(body), kNow).status == 200);
}

TEST_CASE("malformed bodies are 400s in the provider's format") {
  sim::SimulatorEngine engine(test_settings());
  const auto openai = engine.handle(openai_request("{not json"), kNow);
  CHECK(openai.status == 400);
  CHECK_THAT(std::string(body_json(openai).at("error").at("message").as_string()),
             Catch::StartsWith("We could not parse the JSON body"));
  const auto anthropic = engine.handle(anthropic_request("[[["), kNow);
  CHECK(anthropic.status == 400);
  CHECK(body_json(anthropic).at("type").as_string() == "error");
  const auto invalid = engine.handle(openai_request(R"({"model": "m", "messages": []})"), kNow);
  CHECK(invalid.status == 400);
  CHECK(body_json(invalid).at("error").at("param").as_string() == "messages");
}

TEST_CASE("a non-streaming reply is due when its last token is") {
  sim::SimulatorEngine engine(test_settings());
  const auto exchange = engine.handle(openai_request(kChat), kNow);
  REQUIRE(exchange.status == 200);
  CHECK_FALSE(exchange.streaming);
  CHECK(header(exchange, "content-type") == "application/json");
  CHECK_THAT(header(exchange, "x-request-id"), Catch::StartsWith("req_"));
  const auto body = body_json(exchange);
  const auto tokens = body.at("usage").at("completion_tokens").as_int64();
  CHECK(exchange.due == milliseconds(100) + milliseconds(10) * (tokens - 1));
  CHECK(body.at("created").as_int64() == 1'800'000'000);
  CHECK(body.at("id").as_string().starts_with("chatcmpl-"));
  CHECK(body.at("id").as_string().size() == 9 + 29);
  CHECK(body.at("system_fingerprint").as_string().starts_with("fp_"));

  const auto again = engine.handle(openai_request(kChat), kNow);
  CHECK(body_json(again).at("choices") == body.at("choices"));  // same conversation, same reply
  CHECK(body_json(again).at("id") != body.at("id"));            // but every response has its own id
}

TEST_CASE("OpenAI streams: role chunk, paced deltas, finish, usage, DONE") {
  sim::SimulatorEngine engine(test_settings());
  const auto exchange = engine.handle(openai_request(kStreamingChat), kNow);
  REQUIRE(exchange.streaming);
  CHECK(header(exchange, "content-type") == "text/event-stream; charset=utf-8");
  const auto& events = exchange.events;
  REQUIRE(events.size() >= 5);
  CHECK(events.front().due == microseconds(0));
  CHECK_THAT(events.front().bytes, Catch::Contains(R"("delta":{"role":"assistant","content":""})"));
  CHECK_FALSE(events.front().content);
  std::uint64_t tokens = 0;
  microseconds previous{0};
  for (std::size_t i = 1; i + 3 < events.size(); ++i) {
    INFO(events[i].bytes);
    REQUIRE(events[i].content);
    CHECK(events[i].due >= previous);
    previous = events[i].due;
    const auto chunk = json::parse(events[i].bytes.substr(6));
    const std::string text(chunk.at("choices").at(0).at("delta").at("content").as_string());
    tokens += rally::llm_simulator::tokenize(text).size();
    CHECK(events[i].due == milliseconds(100) + milliseconds(10) * (tokens - 1));
    CHECK(chunk.at("usage").is_null());
  }
  const auto finish = json::parse(events[events.size() - 3].bytes.substr(6));
  CHECK(finish.at("choices").at(0).at("finish_reason").as_string() == "stop");
  CHECK(finish.at("choices").at(0).at("delta").as_object().empty());
  const auto usage = json::parse(events[events.size() - 2].bytes.substr(6));
  CHECK(usage.at("choices").as_array().empty());
  CHECK(usage.at("usage").at("completion_tokens").as_int64() == static_cast<std::int64_t>(tokens));
  CHECK(events.back().bytes == "data: [DONE]\n\n");
  CHECK(events.back().due == previous);
}

TEST_CASE("without include_usage there is no usage chunk and no usage field") {
  sim::SimulatorEngine engine(test_settings());
  const auto exchange = engine.handle(
      openai_request(R"({"model": "m", "stream": true, "messages": [{"role": "user", "content": "x"}]})"),
      kNow);
  for (const auto& event : exchange.events) CHECK_THAT(event.bytes, !Catch::Contains("usage"));
  CHECK(exchange.events.back().bytes == "data: [DONE]\n\n");
}

TEST_CASE("Anthropic streams: the documented event order") {
  sim::SimulatorEngine engine(test_settings());
  const auto exchange = engine.handle(anthropic_request(kStreamingMessages), kNow);
  REQUIRE(exchange.streaming);
  CHECK_FALSE(header(exchange, "request-id").empty());
  std::vector<std::string> names;
  for (const auto& event : exchange.events)
    names.push_back(event.bytes.substr(7, event.bytes.find('\n') - 7));
  REQUIRE(names.size() > 7);
  CHECK(names[0] == "message_start");
  CHECK(names[1] == "content_block_start");
  CHECK(names[2] == "ping");
  for (std::size_t i = 3; i < names.size() - 3; ++i) CHECK(names[i] == "content_block_delta");
  CHECK(names[names.size() - 3] == "content_block_stop");
  CHECK(names[names.size() - 2] == "message_delta");
  CHECK(names[names.size() - 1] == "message_stop");
}

TEST_CASE("per-request timing headers override the configured pacing") {
  sim::SimulatorEngine engine(test_settings());
  const auto fast =
      engine.handle(openai_request(kChat, {{"x-sim-ttft-ms", "0"}, {"x-sim-tokens-per-second", "0"}}), kNow);
  CHECK(fast.due == microseconds(0));
  const auto slow = engine.handle(
      openai_request(kStreamingChat, {{"x-sim-ttft-ms", "250"}, {"x-sim-tokens-per-second", "2.5"}}), kNow);
  CHECK(slow.events[1].due >= milliseconds(250));
  CHECK(slow.events[2].due - slow.events[1].due >= milliseconds(400));
  for (const char* bad : {"-1", "abc", "1e9", ""}) {
    INFO(bad);
    CHECK(engine.handle(openai_request(kChat, {{"x-sim-ttft-ms", bad}}), kNow).status == 400);
  }
  CHECK(engine.handle(openai_request(kChat, {{"x-sim-tokens-per-second", "fast"}}), kNow).status == 400);
}

TEST_CASE("configured models limit what is served and listed") {
  sim::SimulatorSettings settings = test_settings();
  settings.models = {"alpha", "beta"};
  sim::SimulatorEngine engine(settings);
  const auto unknown = engine.handle(
      openai_request(R"({"model": "gamma", "messages": [{"role": "user", "content": "x"}]})"), kNow);
  CHECK(unknown.status == 404);
  CHECK(body_json(unknown).at("error").at("code").as_string() == "model_not_found");
  const auto list = engine.handle({"GET", "/v1/models", {{"authorization", "Bearer k"}}, ""}, kNow);
  CHECK(
      list.body ==
      R"({"object":"list","data":[{"id":"alpha","object":"model","created":1700000000,"owned_by":"rally-llm-simulator"},)"
      R"({"id":"beta","object":"model","created":1700000000,"owned_by":"rally-llm-simulator"}]})");
  CHECK(engine.handle({"GET", "/v1/models/beta", {{"x-api-key", "k"}}, ""}, kNow).status == 200);
  CHECK(engine.handle({"GET", "/v1/models/gamma", {{"x-api-key", "k"}}, ""}, kNow).status == 404);
  CHECK(engine.handle({"GET", "/v1/models", {}, ""}, kNow).status == 401);

  sim::SimulatorEngine open(test_settings());
  const auto builtin =
      json::parse(open.handle({"GET", "/v1/models", {{"authorization", "Bearer k"}}, ""}, kNow).body);
  CHECK(builtin.at("data").as_array().size() >= 3);
  CHECK(
      open.handle({"GET", "/v1/models/any-name-at-all", {{"authorization", "Bearer k"}}, ""}, kNow).status ==
      200);
}

TEST_CASE("unknown paths and methods") {
  sim::SimulatorEngine engine(test_settings());
  const auto missing = engine.handle({"GET", "/v2/whatever?x=1", {}, ""}, kNow);
  CHECK(missing.status == 404);
  CHECK(
      missing.body ==
      R"json({"error":{"message":"Invalid URL (GET /v2/whatever)","type":"invalid_request_error","param":null,"code":null}})json");
  const auto method = engine.handle({"GET", "/v1/chat/completions", {}, ""}, kNow);
  CHECK(method.status == 405);
  CHECK(header(method, "allow") == "POST");
  CHECK(engine.handle({"PUT", "/v1/messages", {}, ""}, kNow).body.starts_with(R"({"type":"error")"));
  CHECK(engine.handle({"GET", "/healthz", {}, ""}, kNow).status == 200);
  CHECK_THAT(engine.handle({"GET", "/metrics", {}, ""}, kNow).body,
             Catch::Contains("rally_llm_simulator_requests_total"));
}

TEST_CASE("rejected reads are answered in the format of the path") {
  sim::SimulatorEngine engine(test_settings());
  const auto too_large = engine.reject("/v1/messages", 413);
  CHECK(too_large.status == 413);
  CHECK(too_large.close_connection);
  CHECK(body_json(too_large).at("error").at("type").as_string() == "request_too_large");
  CHECK(body_json(engine.reject("", 431)).at("error").at("type").as_string() == "invalid_request_error");
  CHECK(engine.reject("/v1/chat/completions", 400).status == 400);
}

TEST_CASE("faults: validation of the control API") {
  sim::SimulatorEngine engine(test_settings());
  for (const char* bad :
       {R"(not json)", R"({})", R"({"fault": {}})", R"({"fault": {"status": 200}})",
        R"({"fault": {"status": 429, "drop_after_chunks": 1}})", R"({"fault": {"retry_after": 1}})",
        R"({"count": 0, "fault": {"status": 500}})", R"({"fault": {"explode": true}})",
        R"({"model": "", "fault": {"status": 500}})", R"({"fault": {"drop_after_chunks": -1}})"}) {
    INFO(bad);
    const auto exchange = engine.handle({"POST", "/_sim/faults", {}, bad}, kNow);
    CHECK(exchange.status == 400);
    CHECK(body_json(exchange).at("error").at("message").is_string());
  }
  const auto armed =
      arm(engine, R"({"model": "gpt-*", "count": 2, "fault": {"status": 503, "retry_after": 1.5}})");
  CHECK(armed.at("remaining").as_int64() == 2);
  CHECK(armed.at("kind").as_string() == "status");
  const auto list = json::parse(engine.handle({"GET", "/_sim/faults", {}, ""}, kNow).body);
  CHECK(list.as_array().size() == 1);
  CHECK(engine.handle({"DELETE", "/_sim/faults", {}, ""}, kNow).body == R"({"deleted":1})");
  CHECK(engine.faults().armed().empty());
}

TEST_CASE("faults: a status fault applies to `count` matching requests, oldest armed first") {
  sim::SimulatorEngine engine(test_settings());
  arm(engine, R"({"model": "other-model", "fault": {"status": 500}})");
  arm(engine, R"({"model": "gpt-*", "count": 2, "fault": {"status": 429, "retry_after": 2}})");
  arm(engine, R"({"fault": {"status": 503}})");
  for (int i = 0; i < 2; ++i) {
    const auto limited = engine.handle(openai_request(kChat), kNow);
    CHECK(limited.status == 429);
    CHECK(header(limited, "retry-after") == "2");
    CHECK(limited.fault == "status");
    CHECK(limited.planned_outcome() == "fault:status");
    CHECK(body_json(limited).at("error").at("code").as_string() == "rate_limit_exceeded");
  }
  const auto unavailable = engine.handle(anthropic_request(kStreamingMessages), kNow);
  CHECK(unavailable.status == 503);
  CHECK(body_json(unavailable).at("error").at("type").as_string() == "api_error");
  CHECK(engine.handle(openai_request(kChat), kNow).status == 200);
  CHECK(engine.faults().armed().size() == 1);  // only the fault for other-model is left
}

TEST_CASE("faults: Anthropic's 529 overloaded_error") {
  sim::SimulatorEngine engine(test_settings());
  arm(engine, R"({"fault": {"status": 529}})");
  const auto overloaded = engine.handle(anthropic_request(kStreamingMessages), kNow);
  CHECK(overloaded.status == 529);
  CHECK(overloaded.body == R"({"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}})");
}

TEST_CASE("faults: mid-stream faults cut the stream after N content chunks") {
  sim::SimulatorEngine engine(test_settings());
  const auto count_content = [](const sim::Exchange& exchange) {
    return std::count_if(exchange.events.begin(), exchange.events.end(),
                         [](const auto& e) { return e.content; });
  };

  arm(engine, R"({"fault": {"drop_after_chunks": 2, "stall_before_first_byte_ms": 30}})");
  const auto dropped = engine.handle(openai_request(kStreamingChat), kNow);
  CHECK(dropped.drop_after_events);
  CHECK(dropped.stall == milliseconds(30));
  CHECK(count_content(dropped) == 2);
  CHECK(dropped.events.back().content);
  CHECK(dropped.planned_outcome() == "fault:drop_after_chunks");

  arm(engine, R"({"fault": {"malformed_event_after_chunks": 1}})");
  const auto malformed = engine.handle(openai_request(kStreamingChat), kNow);
  CHECK_FALSE(malformed.drop_after_events);
  CHECK(count_content(malformed) == 1);
  boost::system::error_code ec;
  const std::string& last = malformed.events.back().bytes;
  json::parse(last.substr(6, last.size() - 8), ec);
  CHECK(ec);
  CHECK(malformed.fault == "malformed_event");

  arm(engine, R"({"fault": {"error_event_after_chunks": 3}})");
  const auto openai_error = engine.handle(openai_request(kStreamingChat), kNow);
  CHECK(count_content(openai_error) == 3);
  CHECK(openai_error.events.back().bytes ==
        "data: {\"error\":{\"message\":\"The server had an error while processing your request. Sorry about "
        "that!\",\"type\":\"server_error\",\"param\":null,\"code\":null}}\n\n");

  arm(engine, R"({"fault": {"error_event_after_chunks": 0}})");
  const auto anthropic_error = engine.handle(anthropic_request(kStreamingMessages), kNow);
  CHECK(count_content(anthropic_error) == 0);
  CHECK(anthropic_error.events.back().bytes ==
        "event: error\ndata: "
        "{\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\",\"message\":\"Overloaded\"}}\n\n");
  CHECK(anthropic_error.fault == "error_event");
}

TEST_CASE("faults on non-streaming requests") {
  sim::SimulatorEngine engine(test_settings());
  arm(engine, R"({"fault": {"drop_after_chunks": 0}})");
  CHECK_FALSE(engine.handle(openai_request(kChat), kNow).respond);
  arm(engine, R"({"fault": {"error_event_after_chunks": 0}})");
  CHECK(engine.handle(openai_request(kChat), kNow).status == 500);
  arm(engine, R"({"fault": {"malformed_event_after_chunks": 0}})");
  const auto malformed = engine.handle(openai_request(kChat), kNow);
  CHECK(malformed.status == 200);
  boost::system::error_code ec;
  json::parse(malformed.body, ec);
  CHECK(ec);
  arm(engine, R"({"fault": {"stall_before_first_byte_ms": 99999999999999999}})");
  const auto stalled = engine.handle(openai_request(kChat), kNow);
  CHECK(stalled.stall == sim::kMaxStall);
  CHECK(stalled.planned_outcome() == "fault:stall_before_first_byte");
}

TEST_CASE("the request log records API requests with credentials redacted") {
  sim::SimulatorEngine engine(test_settings());
  const auto exchange = engine.handle(openai_request(kStreamingChat, {{"x-api-key", "secret"}}), kNow);
  REQUIRE(exchange.log_id == 1);
  CHECK(header(exchange, "x-sim-request-id") == "1");
  engine.on_chunk_sent(exchange.log_id);
  engine.on_chunk_sent(exchange.log_id);
  engine.on_finished(exchange.log_id, "client_closed", kNow + std::chrono::seconds(2));
  engine.handle({"GET", "/healthz", {}, ""}, kNow);  // not an API request: not logged
  const auto malformed = engine.handle(openai_request("{"), kNow);
  CHECK(malformed.log_id == 2);

  const auto log = json::parse(engine.handle({"GET", "/_sim/requests", {}, ""}, kNow).body).as_array();
  REQUIRE(log.size() == 2);
  const auto& entry = log[0].as_object();
  CHECK(entry.at("id").as_int64() == 1);
  CHECK(entry.at("path").as_string() == "/v1/chat/completions");
  CHECK(entry.at("model").as_string() == "gpt-4o");
  CHECK(entry.at("stream").as_bool());
  CHECK(entry.at("headers").at("authorization").as_string() == "<redacted>");
  CHECK(entry.at("headers").at("x-api-key").as_string() == "<redacted>");
  CHECK(entry.at("body").at("messages").at(0).at("content").as_string() == "Count to three");
  CHECK(entry.at("status").as_int64() == 200);
  CHECK(entry.at("outcome").as_string() == "client_closed");
  CHECK(entry.at("chunks_sent").as_int64() == 2);
  CHECK(entry.at("started_at").as_string() == "2027-01-15T08:00:00.000Z");
  CHECK(entry.at("ended_at").as_string() == "2027-01-15T08:00:02.000Z");
  CHECK(log[1].at("body").as_string() == "{");  // not JSON: kept as a string
  CHECK(log[1].at("outcome").as_string() == "in_progress");
  CHECK(log[1].at("ended_at").is_null());

  CHECK(engine.handle({"DELETE", "/_sim/requests", {}, ""}, kNow).body == R"({"deleted":2})");
  CHECK(engine.handle(openai_request(kChat), kNow).log_id == 3);  // ids keep increasing
}

TEST_CASE("the request log is bounded, oldest first out") {
  sim::RequestLog log(3, 1 << 20);
  for (int i = 0; i < 5; ++i) log.add(sim::RequestRecord{});
  const auto records = log.snapshot();
  REQUIRE(records.size() == 3);
  CHECK(records.front().id == 3);
  CHECK(records.back().id == 5);
  log.finish(1, "completed", kNow);  // evicted: ignored
  log.count_chunk(5);
  CHECK(log.snapshot().back().chunks_sent == 1);

  sim::RequestLog small(100, 2000);
  for (int i = 0; i < 5; ++i) {
    sim::RequestRecord record;
    record.body = std::string(900, 'x');
    small.add(std::move(record));
  }
  CHECK(small.snapshot().size() == 1);  // by bytes: the newest always stays
}

TEST_CASE("hostile bodies and headers never crash the engine") {
  // Truncations and byte flips of valid requests, plus random bytes, through every route that parses.
  sim::SimulatorEngine engine(test_settings());
  const std::string seeds[] = {
      kStreamingChat, kChat, kStreamingMessages,
      R"({"model": "*", "count": 2, "fault": {"status": 503, "retry_after": 1}})",
      R"({"model": "m", "messages": [{"role": "user", "content": [{"type": "text", "text": "x"}]}],
                                   "stop": ["a"], "response_format": {"type": "json_object"}, "max_tokens": 3})"};
  const char* const paths[] = {"/v1/chat/completions", "/v1/messages", "/_sim/faults"};
  sim::DeterministicRandom random(2024);
  for (int i = 0; i < 3000; ++i) {
    std::string body = seeds[random.below(std::size(seeds))];
    switch (random.below(3)) {
      case 0:
        body.resize(random.below(static_cast<std::uint32_t>(body.size()) + 1));
        break;
      case 1:
        for (int flips = 0; flips < 3; ++flips) {
          body[random.below(static_cast<std::uint32_t>(body.size()))] = static_cast<char>(random.below(256));
        }
        break;
      default:
        body = std::string(random.below(64), '\0');
        for (char& c : body) c = static_cast<char>(random.below(256));
        break;
    }
    sim::HttpRequest request{"POST",
                             paths[random.below(std::size(paths))],
                             {{"authorization", "Bearer k"}, {"x-api-key", "k"}, {"anthropic-version", "1"}},
                             body};
    if (random.below(4) == 0) request.headers.emplace_back("x-sim-tokens-per-second", body.substr(0, 8));
    const auto exchange = engine.handle(request, kNow);
    INFO(body);
    CHECK(exchange.status >= 200);
    CHECK(exchange.status < 600);
    if (exchange.status >= 400) CHECK(json::parse(exchange.body).is_object());
  }
  engine.faults().clear();
}

TEST_CASE("what the client sent is quoted as valid UTF-8, in errors and in the log") {
  sim::SimulatorEngine engine(test_settings());
  const auto error = engine.handle(openai_request(kChat, {{"x-sim-ttft-ms", "\xff\xfe"}}), kNow);
  CHECK(error.status == 400);
  CHECK(json::parse(error.body).at("error").at("message").as_string().find("\xef\xbf\xbd") !=
        json::string::npos);
  engine.handle({"POST", "/v1/\xc3", {{"x-\xff", "\x80"}}, "\xfe not json"}, kNow);
  const auto log = json::parse(engine.handle({"GET", "/_sim/requests", {}, ""}, kNow).body).as_array();
  REQUIRE(log.size() == 2);
  CHECK(log[1].at("path").as_string() == "/v1/\xef\xbf\xbd");
  CHECK(log[1].at("body").as_string() == "\xef\xbf\xbd not json");
}
