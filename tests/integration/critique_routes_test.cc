// POST /criticize_user_request end to end: the gateway, rally-critique (requester and oracle worker),
// the llm-proxy and the LLM simulator with the shipped critic rule, against a real anvil chain with the
// contracts deployed by rally-chain-deploy, and PostgreSQL.
#include <signal.h>

#include <boost/json.hpp>
#include <catch2/catch.hpp>
#include <future>
#include <pqxx/pqxx>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include "services/critique/chain/contract_addresses.h"
#include "services/critique/chain/contract_calls.h"
#include "services/critique/chain/eth_rpc_client.h"
#include "services/critique/eth/abi.h"
#include "tests/integration/llm_stack.h"
#include "tests/support/servers.h"

namespace rally::testing {
namespace {

using namespace std::chrono_literals;
namespace chain = critique::chain;

HttpResult criticize(int port, const std::string& prompt) {
  return http_request(port, "POST", "/criticize_user_request",
                      json::serialize(json::object{{"prompt", prompt}}),
                      {{"Content-Type", "application/json"}});
}

// An anvil chain and the stack with the critique service on it.
struct CritiqueFixture {
  AnvilServer anvil{free_port()};
  std::unique_ptr<LlmStack> stack;

  explicit CritiqueFixture(std::map<std::string, std::string> extra_env = {}) {
    anvil.start();
    StackOptions options;
    options.critique_rpc_url = anvil.rpc_url();
    options.extra_env = std::move(extra_env);
    stack = std::make_unique<LlmStack>(options);
    // The service is up once it answers a critique's validation (the gateway lets a long prompt through).
    REQUIRE(wait_until(
        [&] {
          const HttpResult probe = criticize(stack->gateway_port(), std::string(70 * 1024, 'x'));
          return probe.status == 400;
        },
        30s));
  }

  // Waits until the oracle worker has recorded `count` answers: it records one after its receipt, which
  // the requester may have seen first.
  bool oracle_answers_recorded(int count) const {
    return wait_until(
        [&] {
          pqxx::connection connection(stack->database_url());
          pqxx::nontransaction work(connection);
          return work.exec1("SELECT count(*) FROM critique.oracle_answers")[0].as<int>() >= count;
        },
        10s);
  }

  chain::ContractAddresses contracts() const {
    auto addresses = chain::read_contract_addresses(stack->env().at("RALLY_CRITIQUE_CONTRACTS_FILE"));
    REQUIRE(addresses.ok());
    return addresses.value();
  }
};

void check_critique(const json::object& body, std::size_t prompt_length) {
  const double score = body.at("score").to_number<double>();
  CHECK(score >= 0);
  CHECK(score <= 10);
  CHECK(score == std::floor(score));  // the shipped rule answers whole scores
  // The rule names the length of the prompt it judged: the answer is this prompt's, no other's.
  CHECK_THAT(
      std::string(body.at("description").as_string()),
      Catch::StartsWith("Simulated critique of a " + std::to_string(prompt_length) + "-character prompt"));
  CHECK(std::regex_match(std::string(body.at("tx_hash").as_string()), std::regex("0x[0-9a-f]{64}")));
  CHECK(std::regex_match(std::string(body.at("run_id").as_string()), std::regex("[1-9][0-9]*")));
  CHECK(body.at("block_number").to_number<double>() > 0);
  CHECK(body.at("simulated") == true);
  CHECK(body.at("latency_ms").to_number<double>() >= body.at("chain_ms").to_number<double>());
}

TEST_CASE("a critique runs end to end through the gateway, the chain and the oracle", "[integration]") {
  CritiqueFixture fixture;
  const int port = fixture.stack->gateway_port();
  const std::string prompt = "Explain how a hash table handles collisions, with an example in C.";

  const HttpResult first = criticize(port, prompt);
  INFO(first.body << "\n" << fixture.stack->logs());
  REQUIRE(first.status == 200);
  const json::object answer = parse_json(first.body).as_object();
  check_critique(answer, prompt.size());

  SECTION("the same prompt gets the same score in a new run") {
    const HttpResult again = criticize(port, prompt);
    REQUIRE(again.status == 200);
    const json::object second = parse_json(again.body).as_object();
    CHECK(second.at("score") == answer.at("score"));
    CHECK(second.at("run_id") != answer.at("run_id"));
    CHECK(second.at("tx_hash") != answer.at("tx_hash"));
  }

  SECTION("the critique is recorded without the prompt, and the critic's response() holds the answer") {
    REQUIRE(fixture.oracle_answers_recorded(1));
    pqxx::connection connection(fixture.stack->database_url());
    pqxx::work work(connection);
    const pqxx::row row = work.exec1(
        "SELECT outcome, score, tx_hash, run_id::text, prompt_bytes, simulated, prompt_hash "
        "FROM critique.critiques ORDER BY id DESC LIMIT 1");
    CHECK(row[0].as<std::string>() == "answered");
    CHECK(row[1].as<double>() == answer.at("score").to_number<double>());
    CHECK(row[2].as<std::string>() == std::string(answer.at("tx_hash").as_string()));
    CHECK(row[3].as<std::string>() == std::string(answer.at("run_id").as_string()));
    CHECK(row[4].as<std::size_t>() == prompt.size());
    CHECK(row[5].as<bool>());
    const pqxx::row oracle = work.exec1("SELECT outcome, simulated, tx_hash FROM critique.oracle_answers");
    CHECK(oracle[0].as<std::string>() == "answered");
    CHECK(oracle[1].as<bool>());
    const std::string all_text =
        work.exec1("SELECT string_agg(t::text, ' ') FROM critique.critiques t")[0].c_str();
    CHECK(all_text.find("hash table") == std::string::npos);

    chain::EthRpcClient rpc({.url = fixture.anvil.rpc_url()});
    // response() (selector 0x7a7f01a7), as the original app read it.
    auto raw = rpc.call({.to = fixture.contracts().critic, .data = {0x7a, 0x7f, 0x01, 0xa7}});
    REQUIRE(raw.ok());
    auto decoded =
        critique::eth::abi::decode({critique::eth::abi::Type::parse("string").value()}, raw.value());
    REQUIRE(decoded.ok());
    const json::value on_chain = parse_json(*decoded.value().at(0).as_string());
    CHECK(on_chain.at("score") == answer.at("score"));
    CHECK(on_chain.at("description") == answer.at("description"));
  }
}

TEST_CASE("a critique refuses a missing prompt in the seed's words", "[integration]") {
  CritiqueFixture fixture;
  const int port = fixture.stack->gateway_port();
  for (const std::string body : {R"({})", R"({"prompt": ""})", R"({"prompt": "   "})", R"({"prompt": 7})"}) {
    const HttpResult result =
        http_request(port, "POST", "/criticize_user_request", body, {{"Content-Type", "application/json"}});
    INFO(body << " -> " << result.body);
    CHECK(result.status == 400);
    const json::value envelope = parse_json(result.body);
    CHECK(envelope.at("error").at("message") == "Prompt is required");
    CHECK(envelope.at("error").at("code") == "INVALID_REQUEST");
  }
}

TEST_CASE("ten concurrent critiques each get their own answer, and a 20 KB prompt fits", "[integration]") {
  CritiqueFixture fixture;
  const int port = fixture.stack->gateway_port();
  std::vector<std::string> prompts;
  for (int i = 0; i < 10; ++i) {
    prompts.push_back("Prompt number " + std::to_string(i) + ": " +
                      std::string(static_cast<std::size_t>(i * 7), 'z'));
  }
  std::vector<std::future<HttpResult>> results;
  for (const std::string& prompt : prompts) {
    results.push_back(std::async(std::launch::async, [port, prompt] { return criticize(port, prompt); }));
  }
  std::set<std::string> run_ids;
  for (std::size_t i = 0; i < prompts.size(); ++i) {
    const HttpResult result = results[i].get();
    INFO(result.body);
    REQUIRE(result.status == 200);
    const json::object body = parse_json(result.body).as_object();
    check_critique(body, prompts[i].size());
    run_ids.insert(std::string(body.at("run_id").as_string()));
  }
  CHECK(run_ids.size() == prompts.size());

  std::string long_prompt;
  while (long_prompt.size() < 20 * 1024) long_prompt += "Please review this paragraph for clarity. ";
  const HttpResult long_result = criticize(port, long_prompt);
  INFO(long_result.body);
  REQUIRE(long_result.status == 200);
  check_critique(parse_json(long_result.body).as_object(), long_prompt.size());
}

TEST_CASE("a worker killed while the LLM answers resumes after a restart and answers exactly once",
          "[integration]") {
  CritiqueFixture fixture;
  LlmStack& stack = *fixture.stack;
  const chain::ContractAddresses contracts = fixture.contracts();
  // The critic's next LLM request stalls, so the worker is caught between PromptAdded and its answer.
  stack.arm_simulator_fault(R"({"count": 1, "fault": {"stall_before_first_byte_ms": 100000000000}})");
  stack.clear_simulator_log();
  auto pending =
      std::async(std::launch::async, [&] { return criticize(stack.gateway_port(), "Rate this prompt."); });
  REQUIRE(wait_until([&] { return !stack.simulator_paths().empty(); }, 20s));

  CHECK(stack.restart_critique(SIGKILL) == std::optional<int>(128 + SIGKILL));
  const HttpResult interrupted = pending.get();  // the requester died with the process
  CHECK(interrupted.status >= 500);

  chain::EthRpcClient rpc({.url = fixture.anvil.rpc_url()});
  auto runs = rpc.logs({.address = contracts.critic, .event_topic = chain::run_started_topic()});
  REQUIRE(runs.ok());
  REQUIRE(runs->size() == 1);
  auto run = chain::decode_run_started(runs->front());
  REQUIRE(run.ok());

  // The restarted worker reads the block again from its stored cursor and answers the prompt.
  std::optional<chain::AnswerReceived> answer;
  REQUIRE(wait_until(
      [&] {
        auto raw = rpc.call({.to = contracts.critic, .data = chain::encode_get_answer(run->run_id)});
        if (!raw.ok()) return false;
        auto decoded = chain::decode_get_answer_result(run->run_id, raw.value());
        if (decoded.ok() && decoded.value()) answer = *decoded.value();
        return answer.has_value();
      },
      30s));
  CHECK(answer->error.empty());
  CHECK_THAT(answer->response, Catch::Contains("\"score\""));

  // Exactly one answer on chain for the prompt, also after the worker's next passes.
  std::this_thread::sleep_for(500ms);
  auto answers = rpc.logs({.address = contracts.critic, .event_topic = chain::answer_received_topic()});
  REQUIRE(answers.ok());
  CHECK(answers->size() == 1);
  pqxx::connection connection(stack.database_url());
  pqxx::work work(connection);
  CHECK(work.exec1("SELECT count(*) FROM critique.oracle_answers WHERE outcome = 'answered'")[0].as<int>() ==
        1);
  CHECK(work.exec1("SELECT next_block FROM critique.oracle_cursor")[0].as<std::uint64_t>() >
        runs->front().block_number);
}

TEST_CASE("a failing LLM becomes an error answer on chain and a 502 with its reason", "[integration]") {
  CritiqueFixture fixture;
  // Every attempt (and fallback) of the oracle's LLM call is refused by the provider.
  fixture.stack->arm_simulator_fault(R"({"count": 20, "fault": {"status": 400}})");
  const HttpResult result = criticize(fixture.stack->gateway_port(), "Will this be answered?");
  INFO(result.body);
  CHECK(result.status == 502);
  const json::value envelope = parse_json(result.body);
  CHECK(envelope.at("error").at("code") == "UPSTREAM_ERROR");
  CHECK_THAT(std::string(envelope.at("error").at("message").as_string()),
             Catch::StartsWith("The oracle could not critique the prompt: The critic model failed"));
  REQUIRE(fixture.oracle_answers_recorded(1));
  pqxx::connection connection(fixture.stack->database_url());
  pqxx::work work(connection);
  CHECK(work.exec1("SELECT outcome FROM critique.critiques")[0].as<std::string>() == "oracle_error");
  CHECK(work.exec1("SELECT outcome FROM critique.oracle_answers")[0].as<std::string>() == "error_answered");
}

TEST_CASE("no answer within the deadline is 504 API_TIMEOUT, not a hang", "[integration]") {
  // No oracle worker runs: the request is mined but never answered.
  CritiqueFixture fixture({{"RALLY_CRITIQUE_WORKER", "off"}, {"RALLY_CRITIQUE_TIMEOUT", "2s"}});
  const HttpResult result = criticize(fixture.stack->gateway_port(), "Is anyone there?");
  INFO(result.body);
  CHECK(result.status == 504);
  CHECK(parse_json(result.body).at("error").at("code") == "API_TIMEOUT");
}

TEST_CASE("a caller who hangs up frees the critique long before its deadline", "[integration]") {
  // No worker: the answer never comes, and the service would wait its full minute for it.
  CritiqueFixture fixture({{"RALLY_CRITIQUE_WORKER", "off"}, {"RALLY_CRITIQUE_TIMEOUT", "60s"}});
  const chain::ContractAddresses contracts = fixture.contracts();
  chain::EthRpcClient rpc({.url = fixture.anvil.rpc_url()});
  const auto request_mined = [&] {
    auto runs = rpc.logs({.address = contracts.critic, .event_topic = chain::run_started_topic()});
    return runs.ok() && !runs->empty();
  };
  send_and_hang_up(fixture.stack->gateway_port(), "/criticize_user_request", R"({"prompt": "Anyone?"})",
                   request_mined);
  pqxx::connection connection(fixture.stack->database_url());
  const bool recorded = wait_until(
      [&] {
        pqxx::work work(connection);
        return work.exec1("SELECT count(*) FROM critique.critiques WHERE error LIKE '%caller went away%'")[0]
                   .as<int>() == 1;
      },
      20s);
  INFO(fixture.stack->logs());
  CHECK(recorded);
}

TEST_CASE("a stopped chain answers 503 CHAIN_UNAVAILABLE", "[integration]") {
  CritiqueFixture fixture;
  fixture.anvil.stop();
  const HttpResult result = criticize(fixture.stack->gateway_port(), "Is this a good prompt?");
  INFO(result.body);
  CHECK(result.status == 503);
  CHECK(parse_json(result.body).at("error").at("code") == "CHAIN_UNAVAILABLE");
}

}  // namespace
}  // namespace rally::testing
