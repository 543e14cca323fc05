// What users see through the gateway when providers misbehave, with faults injected into the real LLM
// simulator: rate limits retried, failures exhausted into 502, stalls cut off as 504 at the deadline, a
// fallback model answering, a stream dropped midway, and the llm-proxy's usage statistics afterwards.
#include <grpcpp/grpcpp.h>

#include <catch2/catch.hpp>
#include <string>

#include "rally/v1/llm_proxy.grpc.pb.h"
#include "tests/integration/llm_stack.h"

namespace rally::testing {
namespace {

// The upstream API requests the simulator received for `model`, oldest first, as (outcome, fault).
std::vector<std::pair<std::string, std::string>> upstream_requests_for(const LlmStack& stack,
                                                                       std::string_view model) {
  const HttpResult log = http_request(stack.simulator_port(), "GET", "/_sim/requests");
  REQUIRE(log.status == 200);
  std::vector<std::pair<std::string, std::string>> requests;
  const json::value entries = parse_json(log.body);
  for (const json::value& entry : entries.as_array()) {
    if (entry.at("model").as_string() != model) continue;
    requests.emplace_back(std::string(entry.at("outcome").as_string()),
                          entry.as_object().contains("fault") && entry.at("fault").is_string()
                              ? std::string(entry.at("fault").as_string())
                              : std::string());
  }
  return requests;
}

std::string error_code_of(const HttpResult& result) {
  return std::string(parse_json(result.body).at("error").at("code").as_string());
}

TEST_CASE("provider failures through the gateway: retried, exhausted, timed out, or served by a fallback",
          "[integration]") {
  // Short deadlines keep the stall case quick; backoff stays short so retries do not slow the test.
  LlmStack stack("10s", {{"RALLY_GATEWAY_LLM_TIMEOUT", "3s"},
                         {"RALLY_LLM_PROXY_RETRY_BASE_DELAY", "20ms"},
                         {"RALLY_LLM_PROXY_RETRY_MAX_DELAY", "50ms"},
                         {"RALLY_LLM_PROXY_COOLDOWN", "0s"}});
  const int port = stack.gateway_port();

  SECTION("a 429 with Retry-After is retried and the user gets the answer") {
    const std::string expected = stack.simulator_text("gpt-4o", "Rate limited once");
    stack.clear_simulator_log();
    stack.arm_simulator_fault(
        R"({"model": "gpt-4o", "count": 1, "fault": {"status": 429, "retry_after": 0.2}})");
    const HttpResult result =
        http_request(port, "POST", "/llm_request", body_of("Rate limited once", "gpt-4o"));
    INFO(result.body);
    REQUIRE(result.status == 200);
    CHECK(parse_json(result.body).at("response").as_string() == expected);
    const auto upstream = upstream_requests_for(stack, "gpt-4o");
    REQUIRE(upstream.size() == 2);
    CHECK(upstream[0].second == "status");
    CHECK(upstream[1].second.empty());
  }

  SECTION("a provider failing every attempt gives 502 UPSTREAM_ERROR") {
    // gpt-4-turbo has no fallback in the catalog.
    stack.arm_simulator_fault(R"({"model": "gpt-4-turbo", "count": 3, "fault": {"status": 500}})");
    const HttpResult result =
        http_request(port, "POST", "/llm_request", body_of("Always failing", "gpt-4-turbo"));
    INFO(result.body);
    CHECK(result.status == 502);
    CHECK(error_code_of(result) == "UPSTREAM_ERROR");
    CHECK(upstream_requests_for(stack, "gpt-4-turbo").size() == 3);
  }

  SECTION("a provider that never answers gives 504 API_TIMEOUT at the deadline, and its request is closed") {
    stack.arm_simulator_fault(
        R"({"model": "gpt-4o", "count": 10, "fault": {"stall_before_first_byte_ms": 100000000000}})");
    const HttpResult result =
        http_request(port, "POST", "/llm_request", body_of("Stalled", "gpt-4o"), {}, 30s);
    INFO(result.body);
    CHECK(result.status == 504);
    CHECK(error_code_of(result) == "API_TIMEOUT");
    const bool closed = wait_until(
        [&] {
          const auto upstream = upstream_requests_for(stack, "gpt-4o");
          return !upstream.empty() && upstream.back().first != "in_progress";
        },
        10s);
    CHECK(closed);
  }

  SECTION("the catalog's fallback answers when the primary keeps failing") {
    // gpt-4 falls back to gpt-4-turbo (deploy/models.json).
    stack.arm_simulator_fault(R"({"model": "gpt-4", "count": 3, "fault": {"status": 503}})");
    const HttpResult result = http_request(port, "POST", "/llm_request", body_of("Primary down", "gpt-4"));
    INFO(result.body);
    REQUIRE(result.status == 200);
    const json::value body = parse_json(result.body);
    CHECK(body.at("served_by") == "gpt-4-turbo");
    CHECK(body.at("response").as_string() == stack.simulator_text("gpt-4-turbo", "Primary down"));
  }

  SECTION("a stream whose provider connection drops midway ends with an error event") {
    stack.arm_simulator_fault(R"({"model": "gpt-4o", "count": 1, "fault": {"drop_after_chunks": 3}})");
    const HttpResult result =
        http_request(port, "POST", "/llm_request_streaming", body_of("Dropped", "gpt-4o"));
    INFO(result.body);
    REQUIRE(result.status == 200);
    const std::vector<SseEvent> events = parse_events(result.body);
    REQUIRE(events.size() >= 2);
    CHECK(parse_json(events.front().data).as_object().contains("delta"));
    CHECK(events.back().event == "error");
    CHECK(parse_json(events.back().data).at("code") == "UPSTREAM_ERROR");
    // Output had been sent: the proxy must not have retried.
    CHECK(upstream_requests_for(stack, "gpt-4o").size() == 1);
  }
}

TEST_CASE("the llm-proxy records usage that GetUsageStats aggregates per model", "[integration]") {
  LlmStack stack;
  const int port = stack.gateway_port();
  for (int i = 0; i < 3; ++i) {
    const HttpResult result =
        http_request(port, "POST", "/llm_request_streaming",
                     body_of("Count me " + std::to_string(i), "claude-haiku-4-5-20251001"));
    REQUIRE(result.status == 200);
  }
  stack.arm_simulator_fault(R"({"model": "gpt-4-turbo", "count": 3, "fault": {"status": 500}})");
  REQUIRE(http_request(port, "POST", "/llm_request", body_of("Fails", "gpt-4-turbo")).status == 502);

  auto channel = grpc::CreateChannel("127.0.0.1:" + std::to_string(stack.proxy_port()),
                                     grpc::InsecureChannelCredentials());
  auto stub = v1::LlmProxy::NewStub(channel);
  v1::GetUsageStatsResponse response;
  // Usage rows are written in the background, a moment after each answer.
  const bool recorded = wait_until(
      [&] {
        grpc::ClientContext context;
        context.set_deadline(std::chrono::system_clock::now() + 5s);
        v1::GetUsageStatsRequest request;
        response.Clear();
        if (!stub->GetUsageStats(&context, request, &response).ok()) return false;
        std::uint64_t total = 0;
        for (const auto& model : response.models()) total += model.requests();
        return total >= 4;
      },
      15s);
  INFO(response.DebugString());
  REQUIRE(recorded);
  std::map<std::string, v1::ModelUsageStats> by_model;
  for (const auto& model : response.models()) by_model[model.model()] = model;
  const v1::ModelUsageStats& haiku = by_model.at("claude-haiku-4-5-20251001");
  CHECK(haiku.requests() == 3);
  CHECK(haiku.errors() == 0);
  CHECK(haiku.completion_tokens() > 0);
  CHECK(haiku.cost_usd() > 0);
  CHECK(haiku.has_p50_time_to_first_token());
  const v1::ModelUsageStats& turbo = by_model.at("gpt-4-turbo");
  CHECK(turbo.requests() == 1);
  CHECK(turbo.errors() == 1);
  CHECK(turbo.error_rate() == Approx(1.0));

  // ListModels shows the catalog with the simulator standing in for the providers.
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + 5s);
  v1::ListModelsResponse models;
  REQUIRE(stub->ListModels(&context, v1::ListModelsRequest(), &models).ok());
  REQUIRE(models.models_size() >= 8);
  for (const auto& model : models.models()) CHECK(model.simulated());
}

}  // namespace
}  // namespace rally::testing
