// The LLM path of the stack for integration tests: the real LLM simulator, rally-llm-proxy (every model of
// deploy/models.json routed to the simulator, usage in a scratch PostgreSQL database), optionally
// rally-arena, and rally-gateway, plus helpers to read their answers. Included by the integration tests,
// which define the RALLY_*_BIN paths.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <catch2/catch.hpp>
#include <exception>
#include <filesystem>
#include <fstream>
#include <functional>
#include <list>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "tests/integration/simulator_process.h"
#include "tests/support/http_client.h"
#include "tests/support/process.h"
#include "tests/support/servers.h"
#include "tests/support/temporary_directory.h"
#include "tests/support/test_env.h"

namespace rally::testing {

namespace json = boost::json;
using namespace std::chrono_literals;

inline json::value parse_json(const std::string& text) {
  json::error_code ec;
  json::value value = json::parse(text, ec);
  INFO("body: " << text);
  REQUIRE_FALSE(ec);
  return value;
}

inline std::string body_of(std::string_view message, std::string_view model) {
  return json::serialize(json::object{{"message", message}, {"model", model}});
}

// The gateway's timing header: present, a number, never negative.
inline void check_overhead_header(const HttpResult& result) {
  INFO("X-Rally-Overhead-Ms: " << result.header("x-rally-overhead-ms"));
  REQUIRE_FALSE(result.header("x-rally-overhead-ms").empty());
  CHECK(std::stod(result.header("x-rally-overhead-ms")) >= 0);
  CHECK_FALSE(result.header("x-request-id").empty());
}

// One Server-Sent Event: its event name ("" for plain data events) and data.
struct SseEvent {
  std::string event;
  std::string data;
};

// Splits a complete event-stream body into events; comments (": heartbeat") are counted, not returned.
inline std::vector<SseEvent> parse_events(const std::string& body, int* comments = nullptr) {
  std::vector<SseEvent> events;
  std::size_t position = 0;
  while (position < body.size()) {
    std::size_t end = body.find("\n\n", position);
    REQUIRE(end != std::string::npos);  // every event ends with a blank line
    const std::string block = body.substr(position, end - position);
    position = end + 2;
    if (block.starts_with(":")) {
      if (comments != nullptr) ++*comments;
      continue;
    }
    SseEvent event;
    std::size_t line_start = 0;
    while (line_start <= block.size()) {
      std::size_t line_end = block.find('\n', line_start);
      if (line_end == std::string::npos) line_end = block.size();
      const std::string line = block.substr(line_start, line_end - line_start);
      if (line.starts_with("event: ")) event.event = line.substr(7);
      if (line.starts_with("data: ")) event.data = line.substr(6);
      line_start = line_end + 1;
    }
    events.push_back(std::move(event));
  }
  return events;
}

// A client that sends one request on a connection of its own and hangs up, unanswered, once `until` holds.
inline void send_and_hang_up(int port, const std::string& target, const std::string& body,
                             const std::function<bool()>& until) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(fd >= 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<std::uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address) == 0);
  const std::string request = "POST " + target +
                              " HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n" +
                              "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
  REQUIRE(::send(fd, request.data(), request.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(request.size()));
  const bool reached = wait_until(until, 10s);
  ::close(fd);
  REQUIRE(reached);
}

inline std::string read_file(const std::string& path) {
  std::ifstream in(path);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

struct StackOptions {
  // A heartbeat far longer than any test's wait keeps the stream tests that expect none deterministic.
  std::string sse_heartbeat = "10s";
  // Given to every service and the gateway, over the stack's own settings (a catalog of the test's own).
  std::map<std::string, std::string> extra_env;
  // Also start rally-arena (between the llm-proxy and the gateway), sharing the database and Redis.
  bool arena = false;
  // Also start rally-scoring (with the committed models.dev snapshot, no scheduled recalculation, no
  // models.dev sync); tests wait for it through the gateway since the scoring routes need a token.
  bool scoring = false;
  // Also start rally-critique against the Ethereum node at this URL (an AnvilServer of the test's):
  // rally-chain-deploy first deploys the contracts with anvil's dev keys, and the simulator gets the
  // shipped critic rule (deploy/simulator-rules.json).
  std::string critique_rpc_url;
};

// anvil's dev account 2 signs the critiques (accounts 0 and 1 deploy and answer; AnvilServer has those).
inline constexpr std::string_view kCritiqueRequesterKey =
    "0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a";

// The simulator, the llm-proxy (and the arena) and the gateway, started in that order and stopped in reverse.
class LlmStack {
 public:
  explicit LlmStack(std::string sse_heartbeat = "10s", std::map<std::string, std::string> extra_env = {})
      : LlmStack(StackOptions{std::move(sse_heartbeat), std::move(extra_env), false}) {}

  explicit LlmStack(const StackOptions& options) {
    start_simulator(options.critique_rpc_url.empty()
                        ? std::map<std::string, std::string>{}
                        : std::map<std::string, std::string>{
                              {"RALLY_SIMULATOR_RULES", RALLY_SOURCE_DIR "/deploy/simulator-rules.json"}});
    proxy_port_ = free_port();
    const int proxy_port = proxy_port_;
    std::map<std::string, std::string> env{
        {"RALLY_PG_URL", database_.url()},
        {"RALLY_REDIS_ADDR", redis_address().to_string()},
        {"RALLY_LLM_PROXY_ADDR", "127.0.0.1:" + std::to_string(proxy_port)},
        {"RALLY_LLM_PROXY_METRICS_ADDR", "127.0.0.1:" + std::to_string(free_port())},
        {"RALLY_LLM_PROXY_CATALOG", RALLY_SOURCE_DIR "/deploy/models.json"},
        {"RALLY_LLM_PROXY_SIMULATOR_URL", "http://127.0.0.1:" + std::to_string(simulator_port_)},
        // Empty keys count as missing: every model goes to the simulator whatever the machine has set.
        {"OPENAI_API_KEY", ""},
        {"ANTHROPIC_API_KEY", ""},
        {"RALLY_HEALTH_CHECK_INTERVAL", "200ms"},
        {"RALLY_SHUTDOWN_DRAIN", "2s"},
        // Tests share one Redis and one client address, so limits would count across tests running at
        // once; the gateway edge tests switch them on with a Redis of their own.
        {"RALLY_GATEWAY_RATE_LIMITS", "off"},
    };
    for (const auto& [key, value] : options.extra_env) env[key] = value;  // the options win
    processes_.emplace_back("llm-proxy",
                            ChildProcess({RALLY_LLM_PROXY_BIN}, env, logs_.file("llm-proxy.log")));

    if (options.arena) {
      arena_port_ = free_port();
      env["RALLY_ARENA_ADDR"] = "127.0.0.1:" + std::to_string(arena_port_);
      env.try_emplace("RALLY_ARENA_METRICS_ADDR", "127.0.0.1:" + std::to_string(free_port()));
      processes_.emplace_back("arena", ChildProcess({RALLY_ARENA_BIN}, env, logs_.file("arena.log")));
    }

    if (options.scoring) {
      env["RALLY_SCORING_ADDR"] = "127.0.0.1:" + std::to_string(free_port());
      env.try_emplace("RALLY_SCORING_METRICS_ADDR", "127.0.0.1:" + std::to_string(free_port()));
      env.try_emplace("RALLY_SCORING_MODELS_DEV_FILE",
                      RALLY_SOURCE_DIR "/deploy/data/models-dev-snapshot.json");
      // No scheduled recalculation (it would store and announce scores no test asked for) and no
      // models.dev sync (no internet), unless a test sets them.
      env.try_emplace("RALLY_SCORING_RECALC_INTERVAL", "0s");
      env.try_emplace("RALLY_SCORING_MODELS_DEV_URL", "");
      processes_.emplace_back("scoring", ChildProcess({RALLY_SCORING_BIN}, env, logs_.file("scoring.log")));
    }

    if (!options.critique_rpc_url.empty()) {
      env["RALLY_CRITIQUE_ADDR"] = "127.0.0.1:" + std::to_string(free_port());
      env.try_emplace("RALLY_CRITIQUE_METRICS_ADDR", "127.0.0.1:" + std::to_string(free_port()));
      env["RALLY_CRITIQUE_RPC_URL"] = options.critique_rpc_url;
      env["RALLY_CRITIQUE_CONTRACTS_FILE"] = logs_.file("contracts.json");
      env["RALLY_CRITIQUE_REQUESTER_KEY"] = std::string(kCritiqueRequesterKey);
      env["RALLY_CRITIQUE_WORKER_KEY"] = std::string(AnvilServer::kWorkerKey);
      env.try_emplace("RALLY_CRITIQUE_POLL_INTERVAL", "20ms");
      std::map<std::string, std::string> deploy_env = env;
      deploy_env["RALLY_CHAIN_DEPLOYER_KEY"] = std::string(AnvilServer::kDeployerKey);
      ChildProcess deploy({RALLY_CHAIN_DEPLOY_BIN}, deploy_env, logs_.file("chain-deploy.log"));
      const std::optional<int> deployed = deploy.stop(0, 60s);  // signal 0: only waits for the exit
      INFO(deploy.read_log());
      REQUIRE(deployed == std::optional<int>(0));
      processes_.emplace_back("critique",
                              ChildProcess({RALLY_CRITIQUE_BIN}, env, logs_.file("critique.log")));
    }

    env["RALLY_GATEWAY_SSE_HEARTBEAT"] = options.sse_heartbeat;
    env_ = env;
    gateway_port_ = add_gateway_process("gateway");

    // The proxy serves once its migrations ran; the gateway's /readyz would wait for all four services. The
    // arena is ready once it stored the catalog's models, which the leaderboard then lists.
    const bool serving = wait_until(
        [&] {
          if (http_request(gateway_port_, "GET", "/v1/models").status != 200) return false;
          if (!options.arena) return true;
          const HttpResult board = http_request(gateway_port_, "GET", "/leaderboard");
          return board.status == 200 && board.body != "[]";
        },
        60s);
    INFO(logs());
    REQUIRE(serving);
  }

  // Every process must drain and exit 0 on SIGTERM: under the sanitizer build a report fails the test here.
  ~LlmStack() {
    for (auto it = processes_.rbegin(); it != processes_.rend(); ++it) {
      const std::optional<int> status = it->second.stop(SIGTERM, 15s);
      if (std::uncaught_exceptions() == 0) {
        INFO(it->first << " log:\n" << it->second.read_log());
        CHECK(status == std::optional<int>(0));
      }
    }
  }

  int gateway_port() const { return gateway_port_; }

  // Starts one more gateway with the same settings (a second replica; `overrides` replacing some, e.g. the
  // service replica it calls) and returns its port once it serves.
  int add_gateway(const std::map<std::string, std::string>& overrides = {}) {
    const int port = add_gateway_process("gateway-" + std::to_string(processes_.size()), overrides);
    const bool serving = wait_until([&] { return http_request(port, "GET", "/healthz").status == 200; }, 30s);
    INFO(logs());
    REQUIRE(serving);
    return port;
  }

  // The settings every process of the stack got (the database, Redis, the addresses).
  const std::map<std::string, std::string>& env() const { return env_; }

  // Runs rally-admin with `args` against the stack's database and returns what it printed.
  std::string admin(const std::vector<std::string>& args) {
    std::vector<std::string> argv{RALLY_ADMIN_BIN};
    argv.insert(argv.end(), args.begin(), args.end());
    const std::string log = logs_.file("admin-" + std::to_string(admin_runs_++) + ".log");
    ChildProcess process(argv, env_, log);
    const std::optional<int> status = process.stop(0, 30s);  // signal 0: only waits for the exit
    INFO(process.read_log());
    REQUIRE(status == std::optional<int>(0));
    return process.read_log();
  }

  // A new API token with `scopes` ("read", "write,admin", ...): the raw token rally-admin printed once.
  std::string create_token(const std::string& name, const std::string& scopes) {
    const std::string output = admin({"token", "create", "--name", name, "--scopes", scopes});
    std::size_t start = output.find("rally_");
    while (start != std::string::npos && start != 0 && output[start - 1] != '\n') {
      start = output.find("rally_", start + 1);
    }
    REQUIRE(start != std::string::npos);
    return output.substr(start, output.find('\n', start) - start);
  }
  int simulator_port() const { return simulator_port_; }
  int proxy_port() const { return proxy_port_; }
  int arena_port() const { return arena_port_; }
  const std::string& database_url() const { return database_.url(); }

  // What the simulator answers for one user message, asked directly.
  std::string simulator_text(std::string_view model, std::string_view prompt) const {
    const json::object request{
        {"model", model}, {"messages", json::array{json::object{{"role", "user"}, {"content", prompt}}}}};
    const HttpResult result =
        http_request(simulator_port_, "POST", "/v1/chat/completions", json::serialize(request),
                     {{"Authorization", "Bearer sk-test"}, {"Content-Type", "application/json"}});
    REQUIRE(result.status == 200);
    return std::string(parse_json(result.body).at("choices").at(0).at("message").at("content").as_string());
  }

  // The API paths the simulator received, oldest first.
  std::vector<std::string> simulator_paths() const {
    const HttpResult result = http_request(simulator_port_, "GET", "/_sim/requests");
    REQUIRE(result.status == 200);
    const json::value log = parse_json(result.body);
    std::vector<std::string> paths;
    for (const json::value& entry : log.as_array()) {
      paths.emplace_back(entry.at("path").as_string());
    }
    return paths;
  }

  void clear_simulator_log() const { http_request(simulator_port_, "DELETE", "/_sim/requests"); }

  void arm_simulator_fault(const std::string& fault) const {
    const HttpResult result = http_request(simulator_port_, "POST", "/_sim/faults", fault);
    REQUIRE(result.status == 201);
  }

  // Stops the scoring service with `signal` (SIGKILL: a crash) and starts it again with the same settings
  // (`overrides` replacing some), its log continued in a new file. Returns how the stopped one ended.
  std::optional<int> restart_scoring(int signal, const std::map<std::string, std::string>& overrides = {}) {
    return restart("scoring", RALLY_SCORING_BIN, signal, overrides);
  }

  // The same for the critique service (and its oracle worker).
  std::optional<int> restart_critique(int signal, const std::map<std::string, std::string>& overrides = {}) {
    return restart("critique", RALLY_CRITIQUE_BIN, signal, overrides);
  }

  // Starts one more process of a service the stack runs ("scoring", "critique") with the same settings
  // and ports of its own (another replica behind the same PostgreSQL and Redis), named `name`. Returns its
  // gRPC address; callers wait for it through a gateway pointed there.
  std::string add_replica(const std::string& service, const std::string& name) {
    const std::string key = service == "scoring" ? "SCORING" : "CRITIQUE";
    REQUIRE(env_.contains("RALLY_" + key + "_ADDR"));  // the stack runs the service
    std::map<std::string, std::string> env = env_;
    const std::string address = "127.0.0.1:" + std::to_string(free_port());
    env["RALLY_" + key + "_ADDR"] = address;
    env["RALLY_" + key + "_METRICS_ADDR"] = "127.0.0.1:" + std::to_string(free_port());
    processes_.emplace_back(name,
                            ChildProcess({service == "scoring" ? RALLY_SCORING_BIN : RALLY_CRITIQUE_BIN}, env,
                                         logs_.file(name + ".log")));
    return address;
  }

  // Stops the process `name` with `signal` (SIGKILL: a crash) for good; returns how it ended.
  std::optional<int> stop_process(const std::string& name, int signal) {
    for (auto it = processes_.begin(); it != processes_.end(); ++it) {
      if (it->first != name) continue;
      const std::optional<int> status = it->second.stop(signal, 15s);
      stopped_logs_ += name + " log (stopped):\n" + it->second.read_log() + "\n";
      processes_.erase(it);
      return status;
    }
    FAIL("the stack runs no process " << name);
    return std::nullopt;
  }

  std::string log_of(const std::string& name) const {
    for (const auto& [process_name, process] : processes_) {
      if (process_name == name) return process.read_log();
    }
    return {};
  }

  std::string logs() const {
    std::string text = stopped_logs_;
    for (const auto& [name, process] : processes_) text += name + " log:\n" + process.read_log() + "\n";
    return text;
  }

 private:
  std::optional<int> restart(const std::string& name, const char* binary, int signal,
                             const std::map<std::string, std::string>& overrides) {
    std::map<std::string, std::string> env = env_;
    for (const auto& [key, value] : overrides) env[key] = value;
    for (auto it = processes_.begin(); it != processes_.end(); ++it) {
      if (it->first != name) continue;
      const std::optional<int> status = it->second.stop(signal, 15s);
      it = processes_.erase(it);
      // In place: at the end the stack still stops it before the services it calls.
      processes_.emplace(
          it, name,
          ChildProcess({binary}, env, logs_.file(name + "-" + std::to_string(++restarts_) + ".log")));
      return status;
    }
    FAIL("the stack runs no " << name << " service");
    return std::nullopt;
  }

  void start_simulator(const std::map<std::string, std::string>& extra_env) {
    const std::string port_file = logs_.file("simulator.port");
    processes_.emplace_back("simulator",
                            ChildProcess({RALLY_LLM_SIMULATOR_BIN}, simulator_env(port_file, extra_env),
                                         logs_.file("simulator.log")));
    simulator_port_ = wait_for_simulator_port(processes_.back().second, port_file);
  }

  int add_gateway_process(const std::string& name, const std::map<std::string, std::string>& overrides = {}) {
    const int port = free_port();
    std::map<std::string, std::string> env = env_;
    for (const auto& [key, value] : overrides) env[key] = value;
    env["RALLY_GATEWAY_ADDR"] = "127.0.0.1:" + std::to_string(port);
    processes_.emplace_back(name, ChildProcess({RALLY_GATEWAY_BIN}, env, logs_.file(name + ".log")));
    return port;
  }

  TemporaryDirectory logs_{"rally-llm-routes-"};
  std::map<std::string, std::string> env_;
  std::string stopped_logs_;  // what stop_process() took away, for logs()
  int admin_runs_ = 0;
  int restarts_ = 0;
  ScratchDatabase database_;
  std::list<std::pair<std::string, ChildProcess>> processes_;  // a list: restart_scoring replaces in place
  int simulator_port_ = 0;
  int proxy_port_ = 0;
  int arena_port_ = 0;
  int gateway_port_ = 0;
};

}  // namespace rally::testing
