// An asynchronous batch survives a crash of the scoring service: its request and every result are in
// PostgreSQL as they are made, and the next start resumes it where it stopped, scoring each model once.
#include <signal.h>

#include <boost/json.hpp>
#include <catch2/catch.hpp>
#include <pqxx/connection>
#include <pqxx/nontransaction>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "tests/integration/llm_stack.h"
#include "tests/support/http_client.h"

namespace rally::testing {
namespace {

// The first `count` provider/model keys of the committed models.dev snapshot.
std::vector<std::string> snapshot_keys(std::size_t count) {
  const json::value document =
      parse_json(read_file(RALLY_SOURCE_DIR "/deploy/data/models-dev-snapshot.json"));
  std::vector<std::string> keys;
  for (const auto& [provider, entry] : document.as_object()) {
    if (provider.starts_with("_") || !entry.is_object() || !entry.as_object().contains("models")) continue;
    for (const auto& [model, data] : entry.at("models").as_object()) {
      keys.push_back(std::string(provider) + "/" + std::string(model));
      if (keys.size() == count) return keys;
    }
  }
  return keys;
}

json::value batch_of(int port, const std::string& batch_id) {
  const HttpResult result = http_request(port, "GET", "/api/v1/models/scores/batch/" + batch_id);
  INFO(result.status << " " << result.body);
  REQUIRE(result.status == 200);
  return parse_json(result.body).at("data");
}

// Starts an asynchronous batch of `model_ids` through the gateway at `port`; returns its id.
std::string start_async_batch(int port, const std::vector<std::string>& model_ids) {
  json::array ids;
  for (const std::string& id : model_ids) ids.emplace_back(id);
  const HttpResult started = http_request(port, "POST", "/api/v1/models/scores/batch",
                                          json::serialize(json::object{{"model_ids", ids}, {"async", true}}),
                                          {{"Content-Type", "application/json"}});
  INFO(started.body);
  REQUIRE(started.status == 202);
  return std::string(parse_json(started.body).at("data").at("batch_id").as_string());
}

}  // namespace

TEST_CASE("An asynchronous batch a crash interrupted is resumed at the next start, each model scored once") {
  LlmStack stack(StackOptions{"10s", {{"RALLY_GATEWAY_AUTH", "off"}}, false, true});
  const int port = stack.gateway_port();
  REQUIRE(wait_until([&] { return http_request(port, "GET", "/api/v1/scoring/configuration").status == 200; },
                     60s));

  constexpr std::size_t kModels = 1500;
  const std::vector<std::string> keys = snapshot_keys(kModels);
  REQUIRE(keys.size() == kModels);
  std::vector<std::string> model_ids = keys;
  model_ids.push_back("nobody/no-such-model");  // a failure is a result too, and is resumed like the others
  const std::string batch_id = start_async_batch(port, model_ids);

  // Crash it mid-way: some results stored, not all.
  REQUIRE(wait_until([&] { return batch_of(port, batch_id).at("results").as_array().size() >= 50; }, 60s));
  CHECK(stack.restart_scoring(SIGKILL) == std::optional<int>(128 + SIGKILL));
  pqxx::connection connection(stack.database_url());
  pqxx::nontransaction query(connection);
  const auto done_at_crash =
      query.exec1("SELECT count(*) FROM scoring.batch_results WHERE batch_id = " + query.quote(batch_id))[0]
          .as<std::size_t>();
  const auto status_at_crash =
      query.exec1("SELECT status FROM scoring.batches WHERE batch_id = " + query.quote(batch_id))[0]
          .as<std::string>();
  INFO(done_at_crash << " results stored at the crash");
  REQUIRE(status_at_crash == "processing");
  REQUIRE(done_at_crash < kModels + 1);  // interrupted: the test proves a resume, not a finished batch

  // The new process resumes it: every position answered once, in request order.
  REQUIRE(wait_until(
      [&] {
        const HttpResult result = http_request(port, "GET", "/api/v1/models/scores/batch/" + batch_id);
        return result.status == 200 &&
               parse_json(result.body).at("data").at("status").as_string() == "completed";
      },
      240s));
  const json::value batch = batch_of(port, batch_id);
  const json::array& results = batch.at("results").as_array();
  REQUIRE(results.size() == kModels + 1);
  std::set<std::string> seen;
  for (std::size_t i = 0; i < kModels; ++i) {
    INFO(i << " " << json::serialize(results[i]));
    CHECK(results[i].at("model_id").as_string() == keys[i]);
    CHECK(results[i].at("success") == true);
    seen.insert(std::string(results[i].at("model_id").as_string()));
  }
  CHECK(seen.size() == kModels);
  CHECK(results[kModels].at("success") == false);
  CHECK(results[kModels].at("error").at("code").as_string() == "MODEL_NOT_FOUND");
  // Each model was calculated once: a chunk's scores and results commit together, so the chunk in flight at
  // the crash left nothing, and the resume scored exactly the positions without a result.
  const auto history = query.exec1("SELECT count(*) FROM scoring.score_history")[0].as<std::size_t>();
  CHECK(history == kModels);
  INFO(stack.log_of("scoring"));
  // Within the logger's flush interval (100 ms) of being logged.
  CHECK(wait_until(
      [&] { return stack.log_of("scoring").find("resuming batch " + batch_id) != std::string::npos; }, 5s));
}

TEST_CASE("A batch runs on one replica, and another adopts it when that replica dies") {
  LlmStack stack(StackOptions{
      "10s", {{"RALLY_GATEWAY_AUTH", "off"}, {"RALLY_SCORING_BATCH_ADOPT_INTERVAL", "200ms"}}, false, true});
  const int port_a = stack.gateway_port();
  REQUIRE(wait_until(
      [&] { return http_request(port_a, "GET", "/api/v1/scoring/configuration").status == 200; }, 60s));

  constexpr std::size_t kModels = 1500;
  const std::vector<std::string> keys = snapshot_keys(kModels);
  REQUIRE(keys.size() == kModels);
  const std::string batch_id = start_async_batch(port_a, keys);
  REQUIRE(wait_until([&] { return batch_of(port_a, batch_id).at("results").as_array().size() >= 50; }, 60s));

  // A second replica starts while the first runs the batch: its adoption rounds (at start, then every
  // 200 ms) must leave the batch alone.
  const std::string replica_b = stack.add_replica("scoring", "scoring-b");
  const int port_b = stack.add_gateway({{"RALLY_SCORING_ADDR", replica_b}});
  REQUIRE(wait_until(
      [&] { return http_request(port_b, "GET", "/api/v1/scoring/configuration").status == 200; }, 60s));
  std::this_thread::sleep_for(1s);  // several adoption rounds of replica B
  INFO(stack.logs());
  REQUIRE(batch_of(port_b, batch_id).at("status").as_string() == "processing");
  CHECK(stack.log_of("scoring-b").find("resuming batch " + batch_id) == std::string::npos);

  // The first replica crashes mid-batch; the second adopts the batch and finishes it.
  CHECK(stack.stop_process("scoring", SIGKILL) == std::optional<int>(128 + SIGKILL));
  REQUIRE(
      wait_until([&] { return batch_of(port_b, batch_id).at("status").as_string() == "completed"; }, 240s));
  CHECK(wait_until(
      [&] { return stack.log_of("scoring-b").find("resuming batch " + batch_id) != std::string::npos; }, 5s));
  const json::value finished = batch_of(port_b, batch_id);
  REQUIRE(finished.at("results").as_array().size() == kModels);
  // Each model scored once across both replicas: never by both.
  pqxx::connection connection(stack.database_url());
  pqxx::nontransaction query(connection);
  CHECK(query.exec1("SELECT count(*) FROM scoring.score_history")[0].as<std::size_t>() == kModels);
}

TEST_CASE("A scoring service started before its database exists does its start-up work once migrated") {
  // A database that does not exist yet (created, then dropped: its name and URL stay), dropped again after
  // the stack stopped.
  ScratchDatabase late;
  LlmStack stack(StackOptions{"10s", {{"RALLY_GATEWAY_AUTH", "off"}}, false, true});
  const int port = stack.gateway_port();
  REQUIRE(wait_until([&] { return http_request(port, "GET", "/api/v1/scoring/configuration").status == 200; },
                     60s));
  const auto run_admin = [](const std::string& sql) {
    pqxx::connection admin(postgres_url());
    pqxx::nontransaction transaction(admin);
    transaction.exec0(sql);
  };
  run_admin("DROP DATABASE " + pqxx::connection(postgres_url()).quote_name(late.name()));
  stack.restart_scoring(SIGTERM, {{"RALLY_PG_URL", late.url()}, {"RALLY_SCORING_RECALC_INTERVAL", "1h"}});

  // The start-up recalculation finds no tables and says so; it must not wait an hour to try again.
  REQUIRE(wait_until(
      [&] { return stack.log_of("scoring").find("scheduled recalculation stopped") != std::string::npos; },
      30s));
  run_admin("CREATE DATABASE " + pqxx::connection(postgres_url()).quote_name(late.name()));

  // Migrated at the next health round; the recalculation tried again scores the suite's models.
  REQUIRE(wait_until(
      [&] {
        const HttpResult ranking = http_request(port, "GET", "/api/v1/models/scores/ranking?limit=100");
        return ranking.status == 200 &&
               !parse_json(ranking.body).at("data").at("rankings").as_array().empty();
      },
      30s));
  // Batches left processing are looked for only once the tables exist: no failed attempt before.
  INFO(stack.log_of("scoring"));
  CHECK(stack.log_of("scoring").find("unfinished batches not resumed") == std::string::npos);
}

}  // namespace rally::testing
