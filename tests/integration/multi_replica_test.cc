// Several replicas on one machine, as a cluster runs them: two gateways, two scoring services and two
// critique services behind one PostgreSQL and one Redis. Gateway A calls scoring A and critique A, gateway B
// calls scoring B and critique B, so every check below crosses replicas: a rate limit counted by both
// gateways, a score calculated behind one gateway reaching WebSocket clients of both, and prompts sent
// through both answered by exactly one oracle worker, also after that worker dies.
#include <boost/json.hpp>
#include <catch2/catch.hpp>
#include <chrono>
#include <csignal>
#include <future>
#include <map>
#include <optional>
#include <pqxx/pqxx>
#include <set>
#include <string>
#include <vector>

#include "services/common/redis_client.h"
#include "tests/integration/llm_stack.h"
#include "tests/support/http_client.h"
#include "tests/support/servers.h"
#include "tests/support/websocket_client.h"

namespace rally::testing {
namespace {

using namespace std::chrono_literals;

using Headers = std::map<std::string, std::string>;

constexpr char kLeads[] = "oracle worker leads";

struct ReplicatedStack {
  ReplicatedStack() {
    redis.start();
    anvil.start();
    StackOptions options;
    options.scoring = true;
    options.critique_rpc_url = anvil.rpc_url();
    options.extra_env = {{"RALLY_REDIS_ADDR", redis.address().to_string()},
                         {"RALLY_GATEWAY_RATE_LIMITS", "on"},
                         // An hour: the test's few requests never straddle two windows but at the hour.
                         {"RALLY_GATEWAY_RATE_LIMIT_COMPARE", "5/1h"}};
    stack.emplace(options);
    gateway_a = stack->gateway_port();
    const std::string scoring_b = stack->add_replica("scoring", "scoring-b");
    const std::string critique_b = stack->add_replica("critique", "critique-b");
    gateway_b = stack->add_gateway({{"RALLY_SCORING_ADDR", scoring_b}, {"RALLY_CRITIQUE_ADDR", critique_b}});
    writer = stack->create_token("replicas-writer", "write");
    reader = stack->create_token("replicas-reader", "read");

    // Each gateway answers once its own replicas do: scoring with its configuration, critique by
    // refusing a prompt over its size limit (a refusal only the service gives).
    for (const int port : {gateway_a, gateway_b}) {
      const bool ready = wait_until(
          [&] {
            const HttpResult configuration = http_request(port, "GET", "/api/v1/scoring/configuration", {},
                                                          {{"Authorization", "Bearer " + reader}});
            return configuration.status == 200 && criticize(port, std::string(70 * 1024, 'x')).status == 400;
          },
          60s);
      INFO(stack->logs());
      REQUIRE(ready);
    }
  }

  ~ReplicatedStack() {
    stack.reset();  // before its Redis and chain
  }

  static HttpResult criticize(int port, const std::string& prompt) {
    return http_request(port, "POST", "/criticize_user_request",
                        boost::json::serialize(boost::json::object{{"prompt", prompt}}),
                        {{"Content-Type", "application/json"}});
  }

  // The critique replica whose oracle worker holds the lease, once one does.
  std::string oracle_leader() const {
    std::string leader;
    const bool found = wait_until(
        [&] {
          const bool a = stack->log_of("critique").find(kLeads) != std::string::npos;
          const bool b = stack->log_of("critique-b").find(kLeads) != std::string::npos;
          if (a == b) return false;  // none yet (both at once would fail the check below)
          leader = a ? "critique" : "critique-b";
          return true;
        },
        20s);
    INFO(stack->logs());
    REQUIRE(found);
    return leader;
  }

  // The outcome of every answer the oracle workers recorded, by prompt.
  // The worker's rows once there are `count`: it records an answer after its receipt, which the requester
  // may have seen first.
  std::vector<std::string> oracle_outcomes_once(std::size_t count) const {
    std::vector<std::string> outcomes;
    wait_until([&] { return (outcomes = oracle_outcomes()).size() >= count; }, 10s);
    return outcomes;
  }

  std::vector<std::string> oracle_outcomes() const {
    pqxx::connection connection(stack->database_url());
    pqxx::work work(connection);
    std::vector<std::string> outcomes;
    for (const auto& row : work.exec("SELECT outcome FROM critique.oracle_answers ORDER BY prompt_id")) {
      outcomes.push_back(row[0].as<std::string>());
    }
    return outcomes;
  }

  std::size_t llm_calls() const {
    std::size_t calls = 0;
    for (const std::string& path : stack->simulator_paths()) calls += path == "/v1/chat/completions" ? 1 : 0;
    return calls;
  }

  RedisServer redis{free_port()};  // the gateways' limits and the live updates, this test's alone
  AnvilServer anvil{free_port()};
  std::optional<LlmStack> stack;
  int gateway_a = 0;
  int gateway_b = 0;
  std::string writer;
  std::string reader;
};

json::value next_message(WebSocketClient& client) {
  const std::optional<std::string> text = client.read(15s);
  REQUIRE(text);
  return parse_json(*text);
}

}  // namespace

TEST_CASE("replicas share rate limits, live scores and one oracle worker", "[integration][replicas]") {
  ReplicatedStack s;
  const Headers as_reader{{"Authorization", "Bearer " + s.reader}};

  {  // a caller's limit is counted once across both gateways
    // Both gateways count the same token in Redis: five requests alternating between them use up one
    // budget of five, and the sixth is refused by either. A turned window (the hour) starts over.
    bool counted_in_one_window = false;
    for (int attempt = 0; attempt < 2 && !counted_in_one_window; ++attempt) {
      const std::string token = s.stack->create_token("limited-" + std::to_string(attempt), "read");
      std::vector<HttpResult> results;
      for (int i = 0; i < 6; ++i) {
        results.push_back(http_request(i % 2 == 0 ? s.gateway_a : s.gateway_b, "GET",
                                       "/api/v1/models/scores/compare?model_ids=gpt-4o,o3", {},
                                       {{"Authorization", "Bearer " + token}}));
      }
      counted_in_one_window =
          results.front().header("x-ratelimit-reset") == results.back().header("x-ratelimit-reset");
      if (!counted_in_one_window) continue;
      for (int i = 0; i < 5; ++i) {
        INFO("request " << i << ": " << results[i].status << " " << results[i].body);
        CHECK(results[i].status != 429);
        CHECK(results[i].header("x-ratelimit-limit") == "5");
        CHECK(results[i].header("x-ratelimit-remaining") == std::to_string(4 - i));
      }
      INFO(results[5].body);
      CHECK(results[5].status == 429);
      CHECK(parse_json(results[5].body).at("error").at("code") == "RATE_LIMIT_EXCEEDED");
    }
    CHECK(counted_in_one_window);
  }

  {  // a score calculated behind either gateway reaches the WebSocket clients of both
    WebSocketClient on_a(s.gateway_a, "/api/v1/ws/scoring", as_reader);
    WebSocketClient on_b(s.gateway_b, "/api/v1/ws/scoring", as_reader);
    for (WebSocketClient* client : {&on_a, &on_b}) {
      client->send(R"({"action":"subscribe","model_ids":["*"]})");
      REQUIRE(next_message(*client).at("type") == "subscribed");
    }
    // Both gateways listen on the update channel before anything is published.
    common::RedisSettings settings;
    settings.address = s.redis.address();
    common::RedisClient redis(settings);
    REQUIRE(wait_until(
        [&] {
          const common::RedisReply reply = redis.command({"PUBSUB", "NUMSUB", "rally:scoring:updates"});
          return reply.elements.size() == 2 && reply.elements[1].integer >= 2;
        },
        10s));

    for (const auto& [port, model] : {std::pair{s.gateway_a, "gpt-4o"}, std::pair{s.gateway_b, "o3"}}) {
      const HttpResult calculated =
          http_request(port, "POST", std::string("/api/v1/models/") + model + "/score/calculate",
                       R"({"force_recalculation":true})",
                       {{"Authorization", "Bearer " + s.writer}, {"Content-Type", "application/json"}});
      INFO(calculated.status << " " << calculated.body);
      REQUIRE(calculated.status == 200);
      const json::value score = parse_json(calculated.body).at("data");
      for (WebSocketClient* client : {&on_a, &on_b}) {
        const json::value update = next_message(*client);
        INFO(json::serialize(update));
        REQUIRE(update.at("type") == "score_update");
        CHECK(update.at("data").at("overall_score") == score.at("overall_score"));
        CHECK(update.at("data").at("last_calculated") == score.at("last_calculated"));
      }
    }
  }

  {  // one oracle worker answers each prompt, and the other takes over when it dies
    const std::string leader = s.oracle_leader();
    const std::string standby = leader == "critique" ? "critique-b" : "critique";
    CHECK(s.stack->log_of(standby).find("oracle worker stands by") != std::string::npos);
    s.stack->clear_simulator_log();

    // Six prompts at once, three through each gateway (so through each requester replica).
    std::vector<std::future<HttpResult>> sent;
    for (int i = 0; i < 6; ++i) {
      const int port = i % 2 == 0 ? s.gateway_a : s.gateway_b;
      const std::string prompt =
          "Prompt number " + std::to_string(i) + std::string(static_cast<std::size_t>(i), '!');
      sent.push_back(std::async(std::launch::async,
                                [port, prompt] { return ReplicatedStack::criticize(port, prompt); }));
    }
    std::set<std::string> run_ids;
    for (auto& result : sent) {
      const HttpResult answer = result.get();
      INFO(answer.status << " " << answer.body);
      REQUIRE(answer.status == 200);
      run_ids.insert(std::string(parse_json(answer.body).at("run_id").as_string()));
    }
    CHECK(run_ids.size() == 6);
    // One LLM call and one answer per prompt: the standby asked nothing and sent nothing.
    CHECK(s.llm_calls() == 6);
    CHECK(s.oracle_outcomes_once(6) == std::vector<std::string>(6, "answered"));
    CHECK(s.stack->log_of(standby).find(kLeads) == std::string::npos);

    // The leader crashes; its session ends and the standby takes the lease within its retry delay.
    s.stack->stop_process(leader, SIGKILL);
    const bool took_over =
        wait_until([&] { return s.stack->log_of(standby).find(kLeads) != std::string::npos; }, 20s);
    INFO(s.stack->logs());
    REQUIRE(took_over);
    const int survivor_port = standby == "critique" ? s.gateway_a : s.gateway_b;
    const HttpResult after = ReplicatedStack::criticize(survivor_port, "Answered after the takeover?");
    INFO(after.status << " " << after.body);
    CHECK(after.status == 200);
    CHECK(s.llm_calls() == 7);
    CHECK(s.oracle_outcomes_once(7) == std::vector<std::string>(7, "answered"));
  }
}

}  // namespace rally::testing
