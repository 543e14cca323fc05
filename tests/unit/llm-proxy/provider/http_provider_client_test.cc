// HttpProviderClient against the in-process LLM simulator: both APIs and the compatible dialect, streamed
// and whole, and every way an attempt fails (error statuses, broken streams, provider error events,
// timeouts, cancellation, bad credentials, nothing listening, a base URL that cannot be used).
#include "services/llm-proxy/provider/http_provider_client.h"

#include <atomic>
#include <boost/json.hpp>
#include <catch2/catch.hpp>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "services/llm-proxy/simulator/simulator_server.h"
#include "services/llm-proxy/simulator/simulator_settings.h"
#include "tests/support/process.h"
#include "tests/support/test_env.h"
#include "tests/unit/llm-proxy/http/call_recorder.h"
#include "tests/unit/llm-proxy/http/test_server.h"

namespace rally::llm_proxy {
namespace {

namespace json = boost::json;
namespace sim = rally::llm_simulator;
using namespace std::chrono_literals;

constexpr const char* kOpenAiModel = "gpt-4o";
constexpr const char* kAnthropicModel = "claude-3-5-haiku-latest";
constexpr const char* kCompatibleModel = "llama3.1:8b";

// What an attempt's failure must be; the fields left unset are not checked.
struct ExpectedFailure {
  FailureKind kind = FailureKind::kProtocolError;
  std::optional<int> http_status;
  std::optional<bool> output_sent;
};

// Records one attempt's callbacks, in order, for the test thread to inspect once it ended.
class AttemptRecorder : public std::enable_shared_from_this<AttemptRecorder> {
 public:
  ProviderHandler handler() {
    auto self = shared_from_this();
    return ProviderHandler{
        .on_delta =
            [self](std::string_view text) {
              self->record("delta", [&] { self->deltas_.emplace_back(text); });
            },
        .on_finish =
            [self](ProviderFinish finish) {
              self->record("finish", [&] { self->finish_ = std::move(finish); });
            },
        .on_failure =
            [self](ProviderFailure failure) {
              self->record("failure", [&] { self->failure_ = std::move(failure); });
            },
    };
  }

  // Waits for the end of the attempt, then a moment more to catch a second terminal callback, and checks
  // there was exactly one, last.
  void require_ended(std::chrono::milliseconds timeout = 10s) {
    {
      std::unique_lock lock(mutex_);
      REQUIRE(changed_.wait_for(lock, timeout, [&] { return finish_ || failure_; }));
    }
    std::this_thread::sleep_for(30ms);
    const std::lock_guard lock(mutex_);
    CHECK(std::count(events_.begin(), events_.end(), "finish") +
              std::count(events_.begin(), events_.end(), "failure") ==
          1);
    CHECK(events_.back() != "delta");
  }

  bool wait_for_deltas(std::size_t count, std::chrono::milliseconds timeout = 10s) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, timeout, [&] { return deltas_.size() >= count || finish_ || failure_; }) &&
           deltas_.size() >= count;
  }

  std::vector<std::string> deltas() const {
    const std::lock_guard lock(mutex_);
    return deltas_;
  }
  std::string text() const {
    std::string all;
    for (const std::string& delta : deltas()) all += delta;
    return all;
  }
  std::optional<ProviderFinish> finish() const {
    const std::lock_guard lock(mutex_);
    return finish_;
  }
  std::optional<ProviderFailure> failure() const {
    const std::lock_guard lock(mutex_);
    return failure_;
  }

  // The attempt's failure, which must be there and be as `expected`.
  ProviderFailure require_failure(const ExpectedFailure& expected) const {
    const std::optional<ProviderFailure> failure = this->failure();
    REQUIRE(failure);
    CHECK(failure->kind == expected.kind);
    if (expected.http_status) {
      CHECK(failure->http_status == *expected.http_status);
    }
    if (expected.output_sent) {
      CHECK(failure->output_sent == *expected.output_sent);
    }
    return *failure;
  }

  // The attempt's finish, which must be there, with `reason`, and no failure.
  ProviderFinish require_finish(FinishReason reason) const {
    CHECK_FALSE(failure());
    const std::optional<ProviderFinish> finish = this->finish();
    REQUIRE(finish);
    CHECK(finish->reason == reason);
    return *finish;
  }

 private:
  // One callback: `update` the record under the lock, then wake the test thread.
  template <typename Update>
  void record(const char* event, Update update) {
    const std::lock_guard lock(mutex_);
    events_.push_back(event);
    update();
    changed_.notify_all();
  }

  mutable std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<std::string> events_;
  std::vector<std::string> deltas_;
  std::optional<ProviderFinish> finish_;
  std::optional<ProviderFailure> failure_;
};

sim::SimulatorSettings unpaced() {
  sim::SimulatorSettings settings;
  settings.listen = {"127.0.0.1", 0};
  settings.ttft = 0ms;
  settings.tokens_per_second = 0;
  settings.io_timeout = 5000ms;
  return settings;
}

ChatCompletion completion_for(std::string model, bool stream) {
  ChatCompletion completion;
  completion.upstream_model = std::move(model);
  completion.turns = {{ChatRole::kSystem, "You are terse."}, {ChatRole::kUser, "Name three rivers."}};
  completion.max_tokens = 1024;
  completion.stream = stream;
  return completion;
}

ProviderEndpoint endpoint_at(ProviderKind kind, std::string base_url) {
  ProviderEndpoint endpoint;
  endpoint.kind = kind;
  endpoint.base_url = std::move(base_url);
  return endpoint;
}

// The provider client under test, on an HTTP client of its own.
struct ClientUnderTest {
  // One attempt, to its end.
  std::shared_ptr<AttemptRecorder> run(const ProviderEndpoint& endpoint, const ChatCompletion& completion) {
    auto recorder = std::make_shared<AttemptRecorder>();
    provider.start(endpoint, completion, recorder->handler());
    recorder->require_ended();
    return recorder;
  }

  HttpClient http{testing::one_thread()};
  HttpProviderClient provider{http};
};

struct Dialect {
  ProviderKind kind;
  const char* model;
};

Dialect any_dialect() {
  return GENERATE(Dialect{ProviderKind::kOpenAi, kOpenAiModel},
                  Dialect{ProviderKind::kAnthropic, kAnthropicModel},
                  Dialect{ProviderKind::kOpenAiCompatible, kCompatibleModel});
}

// A simulator and the provider client under test, plus the simulator's control API.
struct Harness {
  explicit Harness(const sim::SimulatorSettings& settings = unpaced())
      : simulator(settings), base_url("http://127.0.0.1:" + std::to_string(simulator.port())) {}

  ProviderEndpoint endpoint(ProviderKind kind, std::string api_key = "sk-test") const {
    ProviderEndpoint endpoint = endpoint_at(kind, base_url);
    endpoint.api_key = std::move(api_key);
    endpoint.timeouts.first_byte = 10s;
    return endpoint;
  }

  std::shared_ptr<AttemptRecorder> run(const ProviderEndpoint& endpoint, const ChatCompletion& completion) {
    return client.run(endpoint, completion);
  }
  // The usual conversation in `dialect`, streamed or not.
  std::shared_ptr<AttemptRecorder> run(const Dialect& dialect, bool stream) {
    return run(endpoint(dialect.kind), completion_for(dialect.model, stream));
  }
  // The same, with `fault` armed first.
  std::shared_ptr<AttemptRecorder> run_with_fault(const std::string& fault, const Dialect& dialect,
                                                  bool stream) {
    arm_fault(fault);
    return run(dialect, stream);
  }

  // Runs `completion` and returns the simulator's log entry for it, which must be a 200 to `path`.
  json::object logged_request(ProviderKind kind, const ChatCompletion& completion, const char* path) {
    run(endpoint(kind), completion);
    json::object entry = last_request();
    CHECK(entry.at("path") == path);
    CHECK(entry.at("status").to_number<int>() == 200);
    return entry;
  }

  HttpFetchResult control(std::string method, std::string path, std::string body = {},
                          HttpHeaders headers = {}) {
    HttpRequest request;
    request.method = std::move(method);
    request.url = base_url + path;
    request.body = std::move(body);
    request.headers = std::move(headers);
    HttpFetchResult result = control_http.fetch(std::move(request)).get();
    REQUIRE(result.ok());
    return result;
  }

  void arm_fault(const std::string& fault) {
    const HttpFetchResult result = control("POST", "/_sim/faults", fault);
    REQUIRE(result.head.status == 201);
  }

  json::array request_log() { return json::parse(control("GET", "/_sim/requests").body).as_array(); }
  json::object last_request() {
    const json::array log = request_log();
    REQUIRE_FALSE(log.empty());
    return log.back().as_object();
  }

  // The simulator's whole answer to the same conversation, read without the code under test.
  struct Reference {
    std::string text;
    TokenUsage usage;
  };
  Reference reference(ProviderKind kind, const std::string& model) {
    const bool anthropic = kind == ProviderKind::kAnthropic;
    const std::string request =
        anthropic
            ? R"({"model":")" + model +
                  R"(","max_tokens":1024,"system":"You are terse.","messages":[{"role":"user","content":"Name three rivers."}]})"
            : R"({"model":")" + model +
                  R"(","messages":[{"role":"system","content":"You are terse."},{"role":"user","content":"Name three rivers."}]})";
    // Built step by step: GCC 12 at -O2 warns (maybe-uninitialized) on a conditional of two
    // initializer-list temporaries here.
    HttpHeaders headers;
    if (anthropic) {
      headers.push_back({"x-api-key", "sk-test"});
      headers.push_back({"anthropic-version", "2023-06-01"});
    } else {
      headers.push_back({"Authorization", "Bearer sk-test"});
    }
    const std::string answer =
        control("POST", anthropic ? "/v1/messages" : "/v1/chat/completions", request, headers).body;
    const json::object body = json::parse(answer).as_object();
    const json::value& text = anthropic ? body.at("content").at(0).at("text")
                                        : body.at("choices").at(0).at("message").at("content");
    const json::object& usage = body.at("usage").as_object();
    const auto tokens = [&](const char* key) {
      return static_cast<std::uint32_t>(usage.at(key).to_number<int>());
    };
    return {std::string(text.as_string()),
            {tokens(anthropic ? "input_tokens" : "prompt_tokens"),
             tokens(anthropic ? "output_tokens" : "completion_tokens")}};
  }

  // Idle connections of the client under test (the control API has its own client).
  std::size_t idle_connections() const { return client.http.pool_stats().idle(base_url); }

  sim::SimulatorServer simulator;
  std::string base_url;
  HttpClient control_http{testing::one_thread()};
  ClientUnderTest client;
};

// The usual conversation in `dialect` answered normally: the simulator's own answer (read without the code
// under test) and what the client under test made of it, which must have finished with kStop and the
// simulator's usage, and kept its connection for the next call (it read the answer to its end).
struct NormalAnswer {
  Harness::Reference reference;
  std::shared_ptr<AttemptRecorder> recorder;
  ProviderFinish finish;
};

NormalAnswer normal_answer(const Dialect& dialect, bool stream) {
  Harness harness;
  NormalAnswer answer{harness.reference(dialect.kind, dialect.model), harness.run(dialect, stream), {}};
  answer.finish = answer.recorder->require_finish(FinishReason::kStop);
  CHECK(answer.finish.usage == answer.reference.usage);
  CHECK(harness.idle_connections() == 1);
  return answer;
}

TEST_CASE("A whole answer arrives as one delta with its finish, usage and id") {
  const Dialect dialect = any_dialect();
  INFO(provider_kind_name(dialect.kind));
  const NormalAnswer answer = normal_answer(dialect, false);
  CHECK(answer.recorder->deltas() == std::vector<std::string>{answer.reference.text});
  CHECK(
      answer.finish.upstream_id.starts_with(dialect.kind == ProviderKind::kAnthropic ? "msg_" : "chatcmpl-"));
}

TEST_CASE("A streamed answer arrives delta by delta, with the same text as the whole answer") {
  const Dialect dialect = any_dialect();
  INFO(provider_kind_name(dialect.kind));
  const NormalAnswer answer = normal_answer(dialect, true);
  CHECK(answer.recorder->deltas().size() > 3);  // streamed in deltas of one to three tokens
  for (const std::string& delta : answer.recorder->deltas()) CHECK_FALSE(delta.empty());
  CHECK(answer.recorder->text() == answer.reference.text);
  CHECK_FALSE(answer.finish.upstream_id.empty());
}

TEST_CASE("Each dialect sends its own request") {
  Harness harness;
  ChatCompletion completion = completion_for(kOpenAiModel, true);
  completion.max_tokens = 77;

  SECTION("OpenAI: bearer key, max_completion_tokens, usage asked for") {
    const json::object entry =
        harness.logged_request(ProviderKind::kOpenAi, completion, "/v1/chat/completions");
    CHECK(entry.at("headers").at("authorization") == "<redacted>");
    CHECK(entry.at("headers").at("accept") == "text/event-stream");
    const json::object& body = entry.at("body").as_object();
    CHECK(body.at("max_completion_tokens").to_number<int>() == 77);
    CHECK_FALSE(body.contains("max_tokens"));
    CHECK(body.at("stream_options").at("include_usage") == true);
  }
  SECTION("compatible: max_tokens") {
    completion.upstream_model = kCompatibleModel;
    const json::object body =
        harness.logged_request(ProviderKind::kOpenAiCompatible, completion, "/v1/chat/completions")
            .at("body")
            .as_object();
    CHECK(body.at("model") == kCompatibleModel);
    CHECK(body.at("max_tokens").to_number<int>() == 77);
    CHECK_FALSE(body.contains("max_completion_tokens"));
  }
  SECTION("Anthropic: x-api-key, version, system hoisted") {
    completion.upstream_model = kAnthropicModel;
    const json::object entry = harness.logged_request(ProviderKind::kAnthropic, completion, "/v1/messages");
    CHECK(entry.at("headers").at("x-api-key") == "<redacted>");
    CHECK(entry.at("headers").at("anthropic-version") == "2023-06-01");
    const json::object& body = entry.at("body").as_object();
    CHECK(body.at("system") == "You are terse.");
    CHECK(body.at("max_tokens").to_number<int>() == 77);
  }
  SECTION("a base URL with a trailing slash") {
    ProviderEndpoint endpoint = harness.endpoint(ProviderKind::kOpenAi);
    endpoint.base_url += "/";
    CHECK(harness.run(endpoint, completion)->finish());
    CHECK(harness.last_request().at("path") == "/v1/chat/completions");
  }
}

TEST_CASE("JSON mode gets a JSON object from either API") {
  const Dialect dialect = any_dialect();
  INFO(provider_kind_name(dialect.kind));
  Harness harness;
  ChatCompletion completion = completion_for(dialect.model, true);
  completion.json_mode = true;  // no message mentions JSON: the OpenAI codec must add the instruction
  const auto recorder = harness.run(harness.endpoint(dialect.kind), completion);
  REQUIRE(recorder->finish());
  if (dialect.kind != ProviderKind::kAnthropic) {
    // The simulator answers JSON mode (response_format) with a JSON object.
    CHECK(json::parse(recorder->text()).is_object());
  } else {
    CHECK(harness.last_request().at("body").at("system").as_string().ends_with("no code fences."));
  }
}

TEST_CASE("A reply cut by max_tokens finishes with kLength") {
  const Dialect dialect = any_dialect();
  const bool stream = GENERATE(true, false);
  INFO(provider_kind_name(dialect.kind) << (stream ? " streamed" : " whole"));
  Harness harness;
  const auto reference = harness.reference(dialect.kind, dialect.model);
  ChatCompletion completion = completion_for(dialect.model, stream);
  completion.max_tokens = 5;
  const auto recorder = harness.run(harness.endpoint(dialect.kind), completion);
  REQUIRE(recorder->finish());
  CHECK(recorder->finish()->reason == FinishReason::kLength);
  CHECK(recorder->finish()->usage->completion_tokens == 5);
  CHECK(reference.text.starts_with(recorder->text()));
  CHECK(recorder->text().size() < reference.text.size());
}

TEST_CASE("HTTP error statuses become failures with the provider's message") {
  const Dialect dialect = any_dialect();
  const bool stream = GENERATE(true, false);
  INFO(provider_kind_name(dialect.kind) << (stream ? " streamed" : " whole"));
  Harness harness;

  SECTION("429 with Retry-After: kRateLimited, retry_after") {
    const auto recorder =
        harness.run_with_fault(R"({"fault": {"status": 429, "retry_after": 1.5}})", dialect, stream);
    const ProviderFailure failure = recorder->require_failure(
        {.kind = FailureKind::kRateLimited, .http_status = 429, .output_sent = false});
    CHECK(failure.retry_after == 1500ms);
    CHECK_FALSE(failure.message.empty());
    CHECK(recorder->deltas().empty());
  }
  SECTION("500: kServerError") {
    const ProviderFailure failure =
        harness.run_with_fault(R"({"fault": {"status": 500}})", dialect, stream)
            ->require_failure({.kind = FailureKind::kServerError, .http_status = 500});
    CHECK_FALSE(failure.retry_after);
    CHECK(failure.message ==
          (dialect.kind == ProviderKind::kAnthropic
               ? "Internal server error"
               : "The server had an error while processing your request. Sorry about that!"));
  }
  SECTION("529: kServerError") {
    harness.run_with_fault(R"({"fault": {"status": 529}})", dialect, stream)
        ->require_failure({.kind = FailureKind::kServerError, .http_status = 529});
  }
  SECTION("a request the API refuses: kClientError with its message") {
    ChatCompletion completion = completion_for(dialect.model, stream);
    completion.temperature = -1;  // OpenAI refuses it; the Anthropic codec clamps it, so refuse max_tokens
    completion.max_tokens = dialect.kind == ProviderKind::kAnthropic ? 0 : 10;
    const ProviderFailure failure =
        harness.run(harness.endpoint(dialect.kind), completion)
            ->require_failure({.kind = FailureKind::kClientError, .http_status = 400});
    CHECK(failure.message.find(dialect.kind == ProviderKind::kAnthropic ? "max_tokens" : "temperature") !=
          std::string::npos);
  }
}

TEST_CASE("A stream broken after some output fails with output_sent") {
  const Dialect dialect = any_dialect();
  INFO(provider_kind_name(dialect.kind));
  Harness harness;

  SECTION("a malformed event after 2 deltas: kProtocolError, and the connection is closed") {
    const auto recorder =
        harness.run_with_fault(R"({"fault": {"malformed_event_after_chunks": 2}})", dialect, true);
    CHECK(recorder->deltas().size() == 2);
    const ProviderFailure failure =
        recorder->require_failure({.kind = FailureKind::kProtocolError, .output_sent = true});
    CHECK(failure.message.starts_with("malformed JSON"));
    CHECK(harness.idle_connections() == 0);
  }
  SECTION("the connection dropped after 3 deltas") {
    const auto recorder = harness.run_with_fault(R"({"fault": {"drop_after_chunks": 3}})", dialect, true);
    CHECK(recorder->deltas().size() == 3);
    const ProviderFailure failure =
        recorder->require_failure({.kind = FailureKind::kProtocolError, .output_sent = true});
    CHECK(failure.message.find(dialect.kind == ProviderKind::kAnthropic ? "message_stop" : "[DONE]") !=
          std::string::npos);
  }
  SECTION("the provider's error event after 2 deltas: its failure, and the connection is closed") {
    const auto recorder =
        harness.run_with_fault(R"({"fault": {"error_event_after_chunks": 2}})", dialect, true);
    CHECK(recorder->deltas().size() == 2);
    const ProviderFailure failure =
        recorder->require_failure({.kind = FailureKind::kServerError, .http_status = 0, .output_sent = true});
    CHECK(failure.message ==
          (dialect.kind == ProviderKind::kAnthropic
               ? "Overloaded"
               : "The server had an error while processing your request. Sorry about that!"));
    CHECK(harness.idle_connections() == 0);
  }
  SECTION("a stream that ends after 0 deltas without its final event: nothing was sent") {
    const auto recorder = harness.run_with_fault(R"({"fault": {"drop_after_chunks": 0}})", dialect, true);
    CHECK(recorder->deltas().empty());
    recorder->require_failure({.kind = FailureKind::kProtocolError, .output_sent = false});
  }
}

TEST_CASE("A whole answer broken by a fault") {
  const Dialect dialect = any_dialect();
  INFO(provider_kind_name(dialect.kind));
  Harness harness;
  const bool body_cut = GENERATE(true, false);
  // A body cut in half, or the connection closed without a response: kProtocolError, nothing sent.
  INFO((body_cut ? "a body cut in half" : "the connection closed without a response"));
  const auto recorder = harness.run_with_fault(body_cut ? R"({"fault": {"malformed_event_after_chunks": 2}})"
                                                        : R"({"fault": {"drop_after_chunks": 1}})",
                                               dialect, false);
  recorder->require_failure({.kind = FailureKind::kProtocolError, .output_sent = false});
  CHECK(recorder->deltas().empty());
}

TEST_CASE("No response head within the first-byte timeout: kTimeout") {
  const Dialect dialect = any_dialect();
  INFO(provider_kind_name(dialect.kind));
  Harness harness;
  harness.arm_fault(R"({"fault": {"stall_before_first_byte_ms": 100000000000}})");
  ProviderEndpoint endpoint = harness.endpoint(dialect.kind);
  endpoint.timeouts.first_byte = 200ms;
  const ProviderFailure failure =
      harness.run(endpoint, completion_for(dialect.model, true))
          ->require_failure({.kind = FailureKind::kTimeout, .http_status = 0, .output_sent = false});
  CHECK(failure.message.find("no response head") != std::string::npos);
}

TEST_CASE("cancel() mid-stream ends the attempt with kCancelled and closes the upstream request") {
  const Dialect dialect = any_dialect();
  INFO(provider_kind_name(dialect.kind));
  sim::SimulatorSettings settings = unpaced();
  settings.tokens_per_second = 20;  // a reply of 20 to 120 tokens takes a second or more
  Harness harness(settings);
  auto recorder = std::make_shared<AttemptRecorder>();
  const ProviderCall call = harness.client.provider.start(
      harness.endpoint(dialect.kind), completion_for(dialect.model, true), recorder->handler());
  REQUIRE(recorder->wait_for_deltas(1));
  call.cancel();
  recorder->require_ended();
  recorder->require_failure({.kind = FailureKind::kCancelled, .output_sent = true});
  CHECK_FALSE(recorder->finish());
  // The simulator saw the connection close while it was still answering.
  std::string outcome;
  CHECK(rally::testing::wait_until(
      [&] {
        outcome = std::string(harness.last_request().at("outcome").as_string());
        return outcome == "client_closed";
      },
      2000ms));
  CHECK(outcome == "client_closed");
  call.cancel();  // again, after the end: nothing happens
}

TEST_CASE("A key the provider refuses: kClientError with status 401 and the provider's message") {
  sim::SimulatorSettings settings = unpaced();
  settings.api_key = "sk-the-right-key";
  Harness harness(settings);
  const Dialect dialect = any_dialect();
  INFO(provider_kind_name(dialect.kind));
  const ProviderFailure failure =
      harness.run(harness.endpoint(dialect.kind, "sk-a-wrong-key"), completion_for(dialect.model, true))
          ->require_failure({.kind = FailureKind::kClientError, .http_status = 401});
  if (dialect.kind == ProviderKind::kAnthropic) {
    CHECK(failure.message == "invalid x-api-key");
  } else {
    CHECK(failure.message.starts_with("Incorrect API key provided"));
  }

  SECTION("and no key at all sends no credentials header") {
    harness.run(harness.endpoint(dialect.kind, ""), completion_for(dialect.model, false))
        ->require_failure({.kind = FailureKind::kClientError, .http_status = 401});
    const json::object headers = harness.last_request().at("headers").as_object();
    CHECK_FALSE(headers.contains("authorization"));
    CHECK_FALSE(headers.contains("x-api-key"));
  }
}

TEST_CASE("Nothing listening at the base URL: kConnect") {
  ClientUnderTest client;
  const ProviderFailure failure =
      client
          .run(endpoint_at(ProviderKind::kOpenAi,
                           "http://127.0.0.1:" + std::to_string(rally::testing::free_port())),
               completion_for(kOpenAiModel, true))
          ->require_failure({.kind = FailureKind::kConnect, .output_sent = false});
  CHECK(failure.message.find("cannot connect") != std::string::npos);
}

TEST_CASE("A base URL that cannot form a request fails with kClientError before start() returns") {
  ClientUnderTest client;
  const ProviderKind kind = GENERATE(ProviderKind::kOpenAi, ProviderKind::kAnthropic);
  const std::string base_url =
      GENERATE(as<std::string>{}, "", "api.openai.com", "ftp://example.com", "http://exa mple.com");
  INFO(base_url);
  auto recorder = std::make_shared<AttemptRecorder>();
  const ProviderCall call = client.provider.start(endpoint_at(kind, base_url),
                                                  completion_for(kOpenAiModel, true), recorder->handler());
  // Already there: no waiting.
  const ProviderFailure failure = recorder->require_failure({.kind = FailureKind::kClientError});
  CHECK(failure.message.find("cannot send a request") != std::string::npos);
  CHECK_FALSE(recorder->finish());
  call.cancel();  // a handle on nothing: harmless
  recorder->require_ended();
}

// What the simulator never does, from scripted servers: a 200 JSON body to a streaming request, an error
// body too large to read, and a stream cut in the middle of an event.
TEST_CASE("A streaming request answered with a whole JSON body is read as a whole answer") {
  testing::TestServer server([](testing::ServerConnection& connection) {
    if (!connection.read_request()) return;
    const std::string body =
        R"({"id":"chatcmpl-9","choices":[{"index":0,"message":{"role":"assistant","content":"Whole."},)"
        R"("finish_reason":"stop"}],"usage":{"prompt_tokens":3,"completion_tokens":2}})";
    connection.write("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: " +
                     std::to_string(body.size()) + "\r\n\r\n" + body);
  });
  ClientUnderTest client;
  const auto recorder = client.run(endpoint_at(ProviderKind::kOpenAiCompatible, server.origin()),
                                   completion_for(kCompatibleModel, true));
  CHECK(recorder->deltas() == std::vector<std::string>{"Whole."});
  REQUIRE(recorder->finish());
  CHECK(recorder->finish()->usage == TokenUsage{3, 2});
  CHECK(recorder->finish()->upstream_id == "chatcmpl-9");
}

TEST_CASE("An error body is read only up to its bound, then the connection is closed") {
  std::atomic<bool> client_closed{false};
  testing::TestServer server([&](testing::ServerConnection& connection) {
    if (!connection.read_request()) return;
    constexpr std::size_t kBodySize = 4 * HttpProviderClient::kMaxErrorBodyBytes;
    connection.write("HTTP/1.1 503 Service Unavailable\r\nContent-Length: " + std::to_string(kBodySize) +
                     "\r\n\r\n");
    // Twice the bound, then nothing until the client hangs up: a client that read on would wait forever.
    const std::string piece(4096, 'x');
    for (std::size_t sent = 0; sent < 2 * HttpProviderClient::kMaxErrorBodyBytes; sent += piece.size()) {
      if (!connection.write(piece)) break;
    }
    client_closed = connection.wait_for_close(5s);
  });
  ClientUnderTest client;
  const ProviderFailure failure =
      client.run(endpoint_at(ProviderKind::kOpenAi, server.origin()), completion_for(kOpenAiModel, false))
          ->require_failure({.kind = FailureKind::kServerError, .http_status = 503});
  CHECK(failure.message.starts_with("the provider answered HTTP 503: xxxx"));
  CHECK(testing::eventually([&] { return client_closed.load(); }));
}

TEST_CASE("A stream cut off in the middle of an event fails with kProtocolError") {
  testing::TestServer server([](testing::ServerConnection& connection) {
    if (!connection.read_request()) return;
    connection.write(
        "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n");
    connection.write(testing::chunk(R"(data: {"choices":[{"index":0,"delta":{"content":"Hel"}}]})"
                                    "\n\n"));
    connection.write(testing::chunk(R"(data: {"choices":[{"index":0,"delta":{"content":"lo"}}]})") +
                     "0\r\n\r\n");
  });
  ClientUnderTest client;
  const auto recorder =
      client.run(endpoint_at(ProviderKind::kOpenAi, server.origin()), completion_for(kOpenAiModel, true));
  CHECK(recorder->deltas() == std::vector<std::string>{"Hel"});  // the unfinished event is not passed on
  const ProviderFailure failure =
      recorder->require_failure({.kind = FailureKind::kProtocolError, .output_sent = true});
  CHECK(failure.message == "the stream ended in the middle of an event, before [DONE]");
}

}  // namespace
}  // namespace rally::llm_proxy
