// The rally-llm-simulator binary: configuration errors exit 2 naming the key, the bound port is written
// to RALLY_SIMULATOR_PORT_FILE, scripted rules work end to end, and SIGTERM stops it cleanly (exit 0).
#include <signal.h>
#include <stdlib.h>

#include <boost/json.hpp>
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <string>

#include "tests/support/process.h"
#include "tests/support/temporary_directory.h"
#include "tests/unit/llm-proxy/simulator/raw_http_client.h"

#ifndef RALLY_LLM_SIMULATOR_BIN
#error \
    "RALLY_LLM_SIMULATOR_BIN must name the rally-llm-simulator binary (see tests/unit/llm-proxy/CMakeLists.txt)"
#endif

namespace json = boost::json;
using rally::llm_simulator::testing::Connection;
using rally::llm_simulator::testing::request_text;
using rally::testing::ChildProcess;
using rally::testing::wait_until;
using std::chrono::milliseconds;

namespace {

using rally::testing::TemporaryDirectory;

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

void write_file(const std::string& path, const std::string& text) {
  std::ofstream(path) << text;
}

// Starts the simulator on a free port and returns that port, read from RALLY_SIMULATOR_PORT_FILE.
int start(std::optional<ChildProcess>& process, const TemporaryDirectory& directory,
          std::map<std::string, std::string> env = {}) {
  const std::string port_file = directory.file("port");
  env.emplace("RALLY_SIMULATOR_ADDR", "127.0.0.1:0");
  env.emplace("RALLY_SIMULATOR_PORT_FILE", port_file);
  env.emplace("RALLY_SIMULATOR_TTFT", "0ms");
  process.emplace(std::vector<std::string>{RALLY_LLM_SIMULATOR_BIN}, env, directory.file("simulator.log"));
  const bool ready = wait_until([&] { return std::filesystem::exists(port_file) || !process->running(); },
                                milliseconds(5000));
  INFO(process->read_log());
  REQUIRE(ready);
  REQUIRE(process->running());
  return std::stoi(read_file(port_file));
}

// Runs the binary to completion with a configuration that must be rejected; returns its exit code.
int exit_code_with(const TemporaryDirectory& directory, std::map<std::string, std::string> env,
                   std::string& log) {
  static int runs = 0;
  ChildProcess process({RALLY_LLM_SIMULATOR_BIN}, std::move(env),
                       directory.file("run-" + std::to_string(++runs) + ".log"));
  wait_until([&] { return !process.running(); }, milliseconds(5000));
  const auto code = process.stop(SIGKILL, milliseconds(1000));
  log = process.read_log();
  return code.value_or(-1);
}

}  // namespace

TEST_CASE("the binary writes its port, serves, and stops cleanly on SIGTERM") {
  TemporaryDirectory directory("rally-sim-process-");
  std::optional<ChildProcess> process;
  const int port = start(process, directory);
  CHECK(port > 0);
  // Log lines reach the file within the logger's flush interval (100 ms), not at once.
  const std::string listening = "listening on http://127.0.0.1:" + std::to_string(port);
  CHECK(wait_until([&] { return process->read_log().find(listening) != std::string::npos; },
                   milliseconds(5000)));

  Connection connection(port);
  connection.send(request_text("GET", "/v1/models", {{"Authorization", "Bearer k"}}));
  const auto models = connection.read_response();
  CHECK(models.status == 200);
  CHECK(json::parse(models.body).at("object").as_string() == "list");

  // A stream in progress gets the drain period to finish.
  Connection streaming(port);
  streaming.send(request_text("POST", "/v1/chat/completions",
                              {{"Authorization", "Bearer k"}, {"x-sim-tokens-per-second", "100"}},
                              R"({"model": "m", "stream": true, "max_tokens": 30,
                                  "messages": [{"role": "user", "content": "x"}]})"));
  REQUIRE(streaming.read_until(
      [](std::string_view raw) { return raw.find("data: ") != std::string_view::npos; }, milliseconds(3000)));
  CHECK(process->stop(SIGTERM, milliseconds(5000)) == 0);
  CHECK(streaming.read_response().complete);
  CHECK_THAT(process->read_log(), Catch::Contains("llm-simulator stopped"));
}

TEST_CASE("SIGINT stops it too, with idle keep-alive connections open") {
  TemporaryDirectory directory("rally-sim-process-");
  std::optional<ChildProcess> process;
  const int port = start(process, directory);
  Connection idle(port);
  idle.send(request_text("GET", "/healthz"));
  CHECK(idle.read_response().status == 200);
  CHECK(process->stop(SIGINT, milliseconds(5000)) == 0);
}

TEST_CASE("a rules file scripts replies end to end") {
  TemporaryDirectory directory("rally-sim-process-");
  const std::string rules = directory.file("rules.json");
  write_file(rules, R"({"rules": [{"name": "critic-score",
      "match": {"contains": "You are a strict critic", "json_mode": true},
      "reply": "{\"score\": {{hash:11}}, \"description\": \"The answer is {{words:8}}.\"}"}]})");
  std::optional<ChildProcess> process;
  const int port = start(process, directory, {{"RALLY_SIMULATOR_RULES", rules}});
  CHECK(wait_until([&] { return process->read_log().find("1 rule(s)") != std::string::npos; },
                   milliseconds(5000)));

  Connection connection(port);
  connection.send(
      request_text("POST", "/v1/chat/completions", {{"Authorization", "Bearer k"}},
                   R"({"model": "gpt-4o", "response_format": {"type": "json_object"}, "messages": [
                                   {"role": "system", "content": "You are a strict critic. Reply in JSON."},
                                   {"role": "user", "content": "Q: 2+2? A: 4"}]})"));
  const auto response = connection.read_response();
  REQUIRE(response.status == 200);
  const auto content = json::parse(response.body).at("choices").at(0).at("message").at("content").as_string();
  const auto score = json::parse(content).as_object();
  CHECK(score.at("score").as_int64() >= 0);
  CHECK(score.at("score").as_int64() <= 10);
  CHECK(score.at("description").as_string().starts_with("The answer is "));
}

TEST_CASE("configuration errors exit 2 and name the key") {
  TemporaryDirectory directory("rally-sim-process-");
  write_file(directory.file("bad-rules.json"), R"([{"name": "x", "reply": "{{score}}"}])");
  const std::pair<std::map<std::string, std::string>, std::string> cases[] = {
      {{{"RALLY_SIMULATOR_THREADS", "0"}}, "RALLY_SIMULATOR_THREADS"},
      {{{"RALLY_SIMULATOR_ADDR", "nowhere"}}, "RALLY_SIMULATOR_ADDR"},
      {{{"RALLY_SIMULATOR_TTFT", "soon"}}, "RALLY_SIMULATOR_TTFT"},
      {{{"RALLY_SIMULATOR_TOKENS_PER_SECOND", "-5"}}, "RALLY_SIMULATOR_TOKENS_PER_SECOND"},
      {{{"RALLY_SIMULATOR_RULES", directory.file("missing.json")}}, "RALLY_SIMULATOR_RULES"},
      {{{"RALLY_SIMULATOR_RULES", directory.file("bad-rules.json")}}, "unknown placeholder"},
      {{{"RALLY_SIMULATOR_MODELS", "a,,b"}}, "RALLY_SIMULATOR_MODELS"},
      {{{"RALLY_SIMULATOR_TLS_CERT", directory.file("none.pem")}}, "RALLY_SIMULATOR_TLS_KEY"},
  };
  for (const auto& [env, expected] : cases) {
    INFO(expected);
    std::string log;
    CHECK(exit_code_with(directory, env, log) == 2);
    CHECK_THAT(log, Catch::Contains(expected));
  }
}

TEST_CASE("a port that is taken exits 1") {
  TemporaryDirectory directory("rally-sim-process-");
  std::optional<ChildProcess> first;
  const int port = start(first, directory);
  std::string log;
  CHECK(exit_code_with(directory, {{"RALLY_SIMULATOR_ADDR", "127.0.0.1:" + std::to_string(port)}}, log) == 1);
  CHECK_THAT(log, Catch::Contains("cannot listen on 127.0.0.1:" + std::to_string(port)));
}
