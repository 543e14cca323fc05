// The completion engine against the real LLM simulator over HTTP, through the real provider code: retries,
// fallbacks, cooldown, cancellation, deadlines and accounting as a client of the engine sees them.
#include "services/llm-proxy/engine/completion_engine.h"

#include <catch2/catch.hpp>
#include <future>
#include <mutex>
#include <string>
#include <vector>

#include "services/common/metrics.h"
#include "services/llm-proxy/provider/http_provider_client.h"
#include "services/llm-proxy/simulator/fault_plan.h"
#include "services/llm-proxy/simulator/simulator_engine.h"
#include "services/llm-proxy/simulator/simulator_server.h"
#include "services/llm-proxy/simulator/simulator_settings.h"
#include "tests/support/process.h"

namespace rally::llm_proxy {
namespace {

using namespace std::chrono_literals;
namespace sim = rally::llm_simulator;

// Accounting goes to memory here; the PostgreSQL store has its own tests against a real server.
class RecordedUsage final : public UsageRecorder {
 public:
  void record(UsageRecord record) override {
    std::lock_guard lock(mutex_);
    records_.push_back(std::move(record));
  }
  std::vector<UsageRecord> records() const {
    std::lock_guard lock(mutex_);
    return records_;
  }

 private:
  mutable std::mutex mutex_;
  std::vector<UsageRecord> records_;
};

struct Outcome {
  std::string text;
  std::size_t deltas = 0;
  CompletionResult result;
};

class EngineFixture {
 public:
  explicit EngineFixture(EngineSettings settings = fast_settings()) : simulator_(simulator_settings()) {
    const std::string base_url = "http://127.0.0.1:" + std::to_string(simulator_.port());
    auto catalog = parse_catalog(R"({"models": [
      {"name": "gpt-4", "provider": "openai", "base_url": "https://api.openai.com", "api_key_env": "K",
       "fallbacks": ["gpt-4o"],
       "price": {"usd_per_1k_tokens": 0.06, "input_usd_per_1m_tokens": 30, "output_usd_per_1m_tokens": 60}},
      {"name": "gpt-4o", "provider": "openai", "base_url": "https://api.openai.com", "api_key_env": "K",
       "price": {"usd_per_1k_tokens": 0.05, "input_usd_per_1m_tokens": 2.5, "output_usd_per_1m_tokens": 10}},
      {"name": "claude", "provider": "anthropic", "upstream_model": "claude-sonnet-4-5-20250929",
       "base_url": "https://api.anthropic.com", "api_key_env": "K",
       "price": {"usd_per_1k_tokens": 0.015, "input_usd_per_1m_tokens": 3, "output_usd_per_1m_tokens": 15}}
    ]})");
    REQUIRE(catalog.ok());
    catalog->route_to_simulator(base_url, [](const std::string&) { return std::optional<std::string>(); });
    engine_.emplace(
        std::move(catalog).value(), providers_, usage_, std::move(settings),
        [](const std::string&) { return std::optional<std::string>(); }, registry_);
  }

  static EngineSettings fast_settings() {
    EngineSettings settings;
    settings.retry.base_delay = 5ms;
    settings.retry.max_delay = 20ms;
    settings.cooldown.cooldown = 0ms;
    return settings;
  }

  static CompletionInput input(std::string model, bool stream, std::string prompt = "Tell me about rivers.") {
    CompletionInput in;
    in.model = std::move(model);
    in.turns = {{ChatRole::kUser, std::move(prompt)}};
    in.stream = stream;
    in.caller = "test";
    in.request_id = "req_engine_test";
    return in;
  }

  Outcome run(CompletionInput in,
              std::optional<std::chrono::steady_clock::time_point> deadline = std::nullopt) {
    auto outcome = std::make_shared<Outcome>();
    std::promise<void> done;
    auto call = engine_->start(std::move(in), deadline,
                               CompletionObserver{.on_delta =
                                                      [outcome](std::string_view text) {
                                                        outcome->text.append(text);
                                                        ++outcome->deltas;
                                                      },
                                                  .on_done =
                                                      [outcome, &done](const CompletionResult& result) {
                                                        outcome->result = result;
                                                        done.set_value();
                                                      }});
    REQUIRE(call.ok());
    REQUIRE(done.get_future().wait_for(30s) == std::future_status::ready);
    return *outcome;
  }

  void arm(const std::string& model, sim::Fault fault, std::uint32_t count = 1) {
    sim::ArmedFault armed;
    armed.model = model;
    armed.remaining = count;
    armed.fault = fault;
    simulator_.engine().faults().arm(armed);
  }

  std::vector<sim::RequestRecord> upstream_requests() { return simulator_.engine().request_log().snapshot(); }

  CompletionEngine& engine() { return *engine_; }
  RecordedUsage& usage() { return usage_; }
  common::metrics::Registry& registry() { return registry_; }

 private:
  static sim::SimulatorSettings simulator_settings() {
    sim::SimulatorSettings settings;
    settings.listen = {"127.0.0.1", 0};
    settings.ttft = 0ms;
    settings.tokens_per_second = 0;
    return settings;
  }

  sim::SimulatorServer simulator_;
  common::metrics::Registry registry_;
  RecordedUsage usage_;
  HttpClient http_;
  HttpProviderClient providers_{http_};
  std::optional<CompletionEngine> engine_;
};

TEST_CASE("Streamed and whole answers carry the same text, usage, cost and accounting") {
  EngineFixture fixture;
  for (const std::string model : {"gpt-4o", "claude"}) {
    const Outcome whole = fixture.run(EngineFixture::input(model, false));
    const Outcome streamed = fixture.run(EngineFixture::input(model, true));
    REQUIRE_FALSE(whole.result.error);
    REQUIRE_FALSE(streamed.result.error);
    CHECK_FALSE(whole.text.empty());
    CHECK(streamed.text == whole.text);
    CHECK(streamed.deltas > 1);
    CHECK(streamed.result.served_by == model);
    CHECK(streamed.result.simulated);
    CHECK(streamed.result.attempts == 1);
    CHECK(streamed.result.usage == whole.result.usage);
    CHECK_FALSE(streamed.result.usage_estimated);
    CHECK(streamed.result.usage.completion_tokens > 0);
    CHECK(streamed.result.time_to_first_token.has_value());
    CHECK(streamed.result.upstream <= streamed.result.total);
    const double expected_cost =
        model == "gpt-4o"
            ? (streamed.result.usage.prompt_tokens * 2.5 + streamed.result.usage.completion_tokens * 10.0) /
                  1e6
            : (streamed.result.usage.prompt_tokens * 3.0 + streamed.result.usage.completion_tokens * 15.0) /
                  1e6;
    CHECK(streamed.result.cost_usd == Approx(expected_cost));
  }
  const auto records = fixture.usage().records();
  REQUIRE(records.size() == 4);
  CHECK(records[0].outcome == UsageOutcome::kOk);
  CHECK(records[0].request_id == "req_engine_test");
  CHECK(records[0].caller == "test");
  CHECK_FALSE(records[0].streamed);
  CHECK(records[1].streamed);
  CHECK(records[3].provider == "anthropic");
  CHECK_FALSE(records[1].prompt_text.has_value());  // prompts are not kept unless configured
}

TEST_CASE("A 429 with retry-after is retried and then served") {
  EngineFixture fixture;
  fixture.arm("gpt-4o", sim::Fault{.status = 429, .retry_after_seconds = 0.05});
  const Outcome outcome = fixture.run(EngineFixture::input("gpt-4o", true));
  REQUIRE_FALSE(outcome.result.error);
  CHECK(outcome.result.attempts == 2);
  CHECK(outcome.result.served_by == "gpt-4o");
  // The wait the provider asked for is part of the upstream time, not the suite's overhead.
  CHECK(outcome.result.upstream >= 50ms);
  CHECK(fixture.upstream_requests().size() == 2);
}

TEST_CASE("Exhausted retries without a fallback end in UPSTREAM_ERROR naming the provider's failure") {
  EngineFixture fixture;
  fixture.arm("gpt-4o", sim::Fault{.status = 500}, 3);
  const Outcome outcome = fixture.run(EngineFixture::input("gpt-4o", false));
  REQUIRE(outcome.result.error);
  CHECK(outcome.result.error->code == common::ErrorCode::kUpstreamError);
  CHECK(outcome.result.attempts == 3);
  CHECK(fixture.upstream_requests().size() == 3);
  const auto records = fixture.usage().records();
  REQUIRE(records.size() == 1);
  CHECK(records[0].outcome == UsageOutcome::kError);
  CHECK(records[0].error_kind == "server_error");
  CHECK(records[0].attempts == 3);
}

TEST_CASE("The fallback model answers when the primary keeps failing, unless fallbacks are disabled") {
  EngineFixture fixture;
  fixture.arm("gpt-4", sim::Fault{.status = 503}, 3);
  const Outcome outcome = fixture.run(EngineFixture::input("gpt-4", true));
  REQUIRE_FALSE(outcome.result.error);
  CHECK(outcome.result.model == "gpt-4");
  CHECK(outcome.result.served_by == "gpt-4o");
  CHECK(outcome.result.attempts == 4);
  const auto upstream = fixture.upstream_requests();
  REQUIRE(upstream.size() == 4);
  CHECK(upstream.back().model == "gpt-4o");

  fixture.arm("gpt-4", sim::Fault{.status = 503}, 3);
  CompletionInput no_fallback = EngineFixture::input("gpt-4", true);
  no_fallback.allow_fallbacks = false;
  const Outcome failed = fixture.run(no_fallback);
  REQUIRE(failed.result.error);
  CHECK(failed.result.attempts == 3);
}

TEST_CASE("A failure after output was sent is never retried") {
  EngineFixture fixture;
  fixture.arm("gpt-4", sim::Fault{.drop_after_chunks = 2});
  const Outcome outcome = fixture.run(EngineFixture::input("gpt-4", true));
  REQUIRE(outcome.result.error);
  CHECK(outcome.result.output_sent);
  CHECK(outcome.result.attempts == 1);
  CHECK(outcome.deltas >= 1);
  CHECK(fixture.upstream_requests().size() == 1);
}

TEST_CASE("A stalled provider ends in API_TIMEOUT at the caller's deadline") {
  EngineFixture fixture;
  fixture.arm("gpt-4o", sim::Fault{.stall_before_first_byte = sim::kMaxStall}, 10);
  const Outcome outcome =
      fixture.run(EngineFixture::input("gpt-4o", true), std::chrono::steady_clock::now() + 300ms);
  REQUIRE(outcome.result.error);
  CHECK(outcome.result.error->code == common::ErrorCode::kApiTimeout);
  // The stalled upstream request was closed, not left hanging.
  REQUIRE(testing::wait_until(
      [&] {
        const auto upstream = fixture.upstream_requests();
        return !upstream.empty() && upstream.back().outcome != "in_progress";
      },
      10s));
}

TEST_CASE("Cancelling closes the upstream request at once and is accounted as cancelled") {
  EngineFixture fixture;
  fixture.arm("gpt-4o", sim::Fault{.stall_before_first_byte = sim::kMaxStall});
  std::promise<CompletionResult> done;
  auto call = fixture.engine().start(
      EngineFixture::input("gpt-4o", true), std::nullopt,
      CompletionObserver{.on_delta = {},
                         .on_done = [&](const CompletionResult& result) { done.set_value(result); }});
  REQUIRE(call.ok());
  REQUIRE(testing::wait_until([&] { return fixture.upstream_requests().size() == 1; }, 10s));
  call.value()->cancel();
  auto future = done.get_future();
  REQUIRE(future.wait_for(10s) == std::future_status::ready);
  const CompletionResult result = future.get();
  CHECK(result.cancelled);
  REQUIRE(testing::wait_until([&] { return fixture.upstream_requests().front().outcome == "client_closed"; },
                              10s));
  const auto records = fixture.usage().records();
  REQUIRE(records.size() == 1);
  CHECK(records[0].outcome == UsageOutcome::kCancelled);
}

TEST_CASE("Cancelling during a backoff wait ends the call without another attempt") {
  EngineSettings settings = EngineFixture::fast_settings();
  settings.retry.base_delay = 10s;
  settings.retry.max_delay = 10s;
  settings.retry.max_retry_after = 60s;
  EngineFixture fixture(settings);
  fixture.arm("gpt-4o", sim::Fault{.status = 429, .retry_after_seconds = 30});
  std::promise<CompletionResult> done;
  auto call = fixture.engine().start(
      EngineFixture::input("gpt-4o", false), std::nullopt,
      CompletionObserver{.on_delta = {},
                         .on_done = [&](const CompletionResult& result) { done.set_value(result); }});
  REQUIRE(call.ok());
  REQUIRE(testing::wait_until(
      [&] {
        const auto upstream = fixture.upstream_requests();
        return upstream.size() == 1 && upstream[0].outcome != "in_progress";
      },
      10s));
  call.value()->cancel();
  auto future = done.get_future();
  REQUIRE(future.wait_for(10s) == std::future_status::ready);
  CHECK(future.get().cancelled);
  CHECK(fixture.upstream_requests().size() == 1);
}

TEST_CASE("A model that keeps failing is cooled down and skipped in favour of its fallback") {
  EngineSettings settings = EngineFixture::fast_settings();
  settings.retry.max_attempts = 1;
  settings.cooldown = CooldownSettings{.failure_threshold = 2, .failure_window = 60s, .cooldown = 60s};
  EngineFixture fixture(settings);
  fixture.arm("gpt-4o", sim::Fault{.status = 500}, 2);
  CHECK(fixture.run(EngineFixture::input("gpt-4o", false)).result.error);
  CHECK_FALSE(fixture.engine().availability("gpt-4o").cooldown_until);
  CHECK(fixture.run(EngineFixture::input("gpt-4o", false)).result.error);
  CHECK(fixture.engine().availability("gpt-4o").cooldown_until);

  // gpt-4o has no fallback: refused at once, without touching the provider.
  const std::size_t before = fixture.upstream_requests().size();
  const auto refused = fixture.engine().start(EngineFixture::input("gpt-4o", false), std::nullopt, {});
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.error().code == common::ErrorCode::kServiceUnavailable);
  CHECK(fixture.upstream_requests().size() == before);

  // gpt-4 falls back to gpt-4o, which is cooling down: gpt-4 alone is tried.
  fixture.arm("gpt-4", sim::Fault{.status = 500});
  const Outcome outcome = fixture.run(EngineFixture::input("gpt-4", false));
  CHECK(outcome.result.error);
  CHECK(outcome.result.attempts == 1);
}

TEST_CASE("Invalid requests are refused before anything is sent") {
  EngineFixture fixture;
  CompletionInput unknown = EngineFixture::input("gpt-99", false);
  const auto result = fixture.engine().start(unknown, std::nullopt, {});
  REQUIRE_FALSE(result.ok());
  CHECK(result.error().code == common::ErrorCode::kInvalidRequest);
  CHECK_THAT(result.error().message, Catch::Contains("gpt-4o"));
  CHECK(fixture.upstream_requests().empty());
  CHECK(fixture.usage().records().empty());
}

TEST_CASE("Metrics count requests, attempts and tokens") {
  EngineFixture fixture;
  fixture.arm("gpt-4o", sim::Fault{.status = 429});
  REQUIRE_FALSE(fixture.run(EngineFixture::input("gpt-4o", true)).result.error);
  const std::string text = fixture.registry().render();
  CHECK_THAT(text, Catch::Contains(R"(rally_llm_proxy_requests_total{model="gpt-4o",outcome="ok"} 1)"));
  CHECK_THAT(text,
             Catch::Contains(R"(rally_llm_proxy_attempts_total{model="gpt-4o",result="rate_limited"} 1)"));
  CHECK_THAT(text, Catch::Contains(R"(rally_llm_proxy_attempts_total{model="gpt-4o",result="ok"} 1)"));
  CHECK_THAT(text, Catch::Contains(R"(rally_llm_proxy_tokens_total{model="gpt-4o",direction="completion"})"));
}

}  // namespace
}  // namespace rally::llm_proxy
