// The scoring API with a live models.dev: the scoring service syncs from the LLM simulator's /api.json (the
// stand-in for https://models.dev/api.json), a model published after the last sync is found by the request
// that names it, and a models.dev that does not answer in time is 504 API_TIMEOUT through the gateway.
#include <boost/json.hpp>
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <string>

#include "tests/integration/llm_stack.h"
#include "tests/integration/simulator_process.h"
#include "tests/support/http_client.h"
#include "tests/support/temporary_directory.h"

namespace rally::testing {
namespace {

// A models.dev document with the given OpenAI model ids (and one Anthropic model, so it has two providers).
std::string document_with(const std::vector<std::string>& openai_models) {
  json::object models;
  for (const std::string& id : openai_models) {
    models[id] = json::object{{"id", id},
                              {"name", id},
                              {"release_date", "2026-10-01"},
                              {"cost", json::object{{"input", 1.25}, {"output", 10.0}}},
                              {"limit", json::object{{"context", 400000}, {"output", 128000}}}};
  }
  return json::serialize(json::object{
      {"openai", json::object{{"id", "openai"}, {"models", std::move(models)}}},
      {"anthropic",
       json::object{{"id", "anthropic"},
                    {"models", json::object{{"claude-test", json::object{{"id", "claude-test"}}}}}}},
  });
}

// models.dev as the simulator serves it: the test rewrites the document (atomically) and arms faults.
class ModelsDevServer {
 public:
  ModelsDevServer() {
    publish(document_with({"gpt-test-1"}));
    process_.emplace(std::vector<std::string>{RALLY_LLM_SIMULATOR_BIN},
                     simulator_env(directory_.file("port"), {{"RALLY_SIMULATOR_MODELS_DEV_FILE", path()}}),
                     directory_.file("simulator.log"));
    port_ = wait_for_simulator_port(*process_, directory_.file("port"));
  }

  void publish(const std::string& document) const {
    const std::string next = directory_.file("api.json.next");
    std::ofstream(next, std::ios::binary) << document;
    std::filesystem::rename(next, path());  // a request never reads half a document
  }

  void arm(const std::string& fault) const {
    REQUIRE(http_request(port_, "POST", "/_sim/faults", fault).status == 201);
  }

  // Requests for /api.json so far.
  std::size_t fetches() const {
    const json::value log = parse_json(http_request(port_, "GET", "/_sim/requests").body);
    std::size_t count = 0;
    for (const json::value& entry : log.as_array()) count += entry.at("path") == "/api.json" ? 1 : 0;
    return count;
  }

  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/api.json"; }
  std::string path() const { return directory_.file("api.json"); }

 private:
  TemporaryDirectory directory_{"rally-models-dev-"};
  std::optional<ChildProcess> process_;
  int port_ = 0;
};

}  // namespace

TEST_CASE("A model models.dev publishes is found by the request that names it, and a slow models.dev is a 504") {
  ModelsDevServer models_dev;
  LlmStack stack(StackOptions{"10s",
                              {{"RALLY_GATEWAY_AUTH", "off"},
                               {"RALLY_SCORING_MODELS_DEV_URL", models_dev.url()},
                               {"RALLY_SCORING_MODELS_DEV_TIMEOUT", "1s"},
                               {"RALLY_SCORING_MODELS_DEV_MIN_REFRESH", "0s"}},
                              false,
                              true});
  const int port = stack.gateway_port();
  const auto calculate = [&](const std::string& id) {
    return http_request(port, "POST", "/api/v1/models/" + id + "/score/calculate", "{}",
                        {{"Content-Type", "application/json"}});
  };

  // The first sync runs at start and replaces the snapshot with the served document.
  REQUIRE(wait_until([&] { return calculate("gpt-test-1").status == 200; }, 60s));
  const json::value first = parse_json(calculate("gpt-test-1").body).at("data");
  CHECK(first.at("data_source").as_string() == "models.dev");
  CHECK(first.at("model_id").as_string() == "gpt-test-1");

  // Published after the sync: the request that names it fetches (conditionally: the ETag changed) and
  // scores it.
  models_dev.publish(document_with({"gpt-test-1", "gpt-test-2"}));
  const HttpResult found = calculate("openai%2Fgpt-test-2");
  INFO(found.body);
  REQUIRE(found.status == 200);
  CHECK(parse_json(found.body).at("data").at("score_suffix").as_string().starts_with("(SC:"));

  // Nothing new upstream: a 304, and the unknown id stays a 404.
  const std::size_t before = models_dev.fetches();
  const HttpResult unknown = calculate("gpt-test-404");
  INFO(unknown.body);
  CHECK(unknown.status == 404);
  CHECK(parse_json(unknown.body).at("error").at("code").as_string() == "MODEL_NOT_FOUND");
  CHECK(models_dev.fetches() == before + 1);

  // models.dev hangs: the request that needed it is a 504 after RALLY_SCORING_MODELS_DEV_TIMEOUT, in the
  // documented envelope; known models are served meanwhile without waiting for it.
  models_dev.arm(R"({"path": "/api.json", "fault": {"stall_before_first_byte_ms": 100000000}})");
  const HttpResult slow = calculate("gpt-test-3");
  INFO(slow.body);
  REQUIRE(slow.status == 504);
  const json::value error = parse_json(slow.body);
  CHECK(error.at("success") == false);
  CHECK(error.at("error").at("code").as_string() == "API_TIMEOUT");
  CHECK(error.at("error").at("details").at("model_id").as_string() == "gpt-test-3");
  CHECK(calculate("gpt-test-1").status == 200);
}

}  // namespace rally::testing
