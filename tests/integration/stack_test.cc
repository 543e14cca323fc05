// The whole stack as `./rally up` runs it: the four service binaries and the gateway, against real
// PostgreSQL and Redis. Checks health, readiness as services come and go, dependency outages, metrics,
// the error envelope, graceful shutdown and configuration errors.
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>
#include <signal.h>

#include <boost/json.hpp>
#include <catch2/catch.hpp>
#include <cstdint>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <pqxx/connection>
#include <pqxx/nontransaction>
#include <string>

#include "grpc/health/v1/health.grpc.pb.h"
#include "rally/v1/critique.grpc.pb.h"
#include "tests/support/http_client.h"
#include "tests/support/process.h"
#include "tests/support/servers.h"
#include "tests/support/temporary_directory.h"
#include "tests/support/test_env.h"

namespace rally::testing {
namespace {

using namespace std::chrono_literals;

struct ServiceBinary {
  std::string name;    // as in logs and /readyz
  std::string prefix;  // RALLY_<prefix>_ADDR
  std::string path;
};

const std::vector<ServiceBinary>& service_binaries() {
  static const std::vector<ServiceBinary> all{
      {"llm-proxy", "LLM_PROXY", RALLY_LLM_PROXY_BIN},
      {"arena", "ARENA", RALLY_ARENA_BIN},
      {"scoring", "SCORING", RALLY_SCORING_BIN},
      {"critique", "CRITIQUE", RALLY_CRITIQUE_BIN},
  };
  return all;
}

// Ports and environment for one stack; each process is started and stopped individually.
class Stack {
 public:
  Stack(std::string postgres_url, std::string redis_address) : gateway_port_(free_port()) {
    env_["RALLY_PG_URL"] = std::move(postgres_url);
    env_["RALLY_REDIS_ADDR"] = std::move(redis_address);
    env_["RALLY_GATEWAY_ADDR"] = "127.0.0.1:" + std::to_string(gateway_port_);
    env_["RALLY_HEALTH_CHECK_INTERVAL"] = "200ms";
    env_["RALLY_SHUTDOWN_DRAIN"] = "2s";
    env_["RALLY_GATEWAY_READY_TIMEOUT"] = "500ms";
    env_["RALLY_LLM_PROXY_CATALOG"] = RALLY_SOURCE_DIR "/deploy/models.json";
    env_["RALLY_SCORING_MODELS_DEV_FILE"] = RALLY_SOURCE_DIR "/deploy/data/models-dev-snapshot.json";
    env_["RALLY_SCORING_MODELS_DEV_URL"] = "";  // no internet: the snapshot only
    // The critique service starts without its chain (it reaches the node only per call): a port nobody
    // listens on, with anvil's public dev keys and made-up contract addresses.
    env_["RALLY_CRITIQUE_RPC_URL"] = "http://127.0.0.1:" + std::to_string(free_port());
    env_["RALLY_CRITIQUE_ORACLE_ADDRESS"] = "0x5FbDB2315678afecb367f032d93F642f64180aa3";
    env_["RALLY_CRITIQUE_CRITIC_ADDRESS"] = "0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512";
    env_["RALLY_CRITIQUE_REQUESTER_KEY"] = std::string(AnvilServer::kDeployerKey);
    env_["RALLY_CRITIQUE_WORKER_KEY"] = std::string(AnvilServer::kWorkerKey);
    for (const ServiceBinary& service : service_binaries()) {
      const int port = free_port();
      service_ports_[service.name] = port;
      env_["RALLY_" + service.prefix + "_ADDR"] = "127.0.0.1:" + std::to_string(port);
      env_["RALLY_" + service.prefix + "_METRICS_ADDR"] = "127.0.0.1:" + std::to_string(free_port());
    }
  }

  // Every process must drain and exit 0 on SIGTERM: under the sanitizer build this is also where a leak or
  // other sanitizer report in a child fails the test.
  ~Stack() {
    for (auto& [name, process] : processes_) {
      const std::optional<int> status = process.stop(SIGTERM, 15s);
      if (std::uncaught_exceptions() == 0) {
        INFO(name << " log:\n" << process.read_log());
        CHECK(status == std::optional<int>(0));
      }
    }
    processes_.clear();
  }

  void start(const std::string& name) {
    processes_.erase(name);
    const std::string binary = name == "gateway" ? RALLY_GATEWAY_BIN : binary_of(name).path;
    processes_.emplace(name, ChildProcess({binary}, env_, logs_.file(name + ".log")));
  }

  void start_all() {
    for (const ServiceBinary& service : service_binaries()) start(service.name);
    start("gateway");
  }

  ChildProcess& process(const std::string& name) { return processes_.at(name); }
  int gateway_port() const { return gateway_port_; }
  int service_port(const std::string& name) const { return service_ports_.at(name); }
  const std::map<std::string, std::string>& env() const { return env_; }

 private:
  static const ServiceBinary& binary_of(const std::string& name) {
    for (const ServiceBinary& service : service_binaries()) {
      if (service.name == name) return service;
    }
    throw std::invalid_argument("unknown service " + name);
  }

  TemporaryDirectory logs_{"rally-stack-"};
  int gateway_port_;
  std::map<std::string, int> service_ports_;
  std::map<std::string, std::string> env_;
  std::map<std::string, ChildProcess> processes_;
};

// The service's own health answer ("SERVING", "NOT_SERVING", or "UNREACHABLE").
std::string grpc_health(int port, const std::string& service_name = "") {
  auto channel = grpc::CreateChannel("127.0.0.1:" + std::to_string(port), grpc::InsecureChannelCredentials());
  auto stub = grpc::health::v1::Health::NewStub(channel);
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + 500ms);
  grpc::health::v1::HealthCheckRequest request;
  request.set_service(service_name);
  grpc::health::v1::HealthCheckResponse response;
  const grpc::Status status = stub->Check(&context, request, &response);
  if (!status.ok()) return "UNREACHABLE";
  return grpc::health::v1::HealthCheckResponse::ServingStatus_Name(response.status());
}

// Lists the services a server exposes through gRPC server reflection (v1alpha, what grpc++ 1.51 serves).
// Debian ships no reflection client stubs, so the request is encoded by hand: ServerReflectionRequest with
// its list_services field (7) set to "", i.e. the bytes 0x3a 0x00. The answer's service names are plain
// strings inside the response bytes.
std::string reflection_list_services(int port) {
  auto channel = grpc::CreateChannel("127.0.0.1:" + std::to_string(port), grpc::InsecureChannelCredentials());
  grpc::GenericStub stub(channel);
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + 2s);
  grpc::CompletionQueue queue;
  auto call =
      stub.PrepareCall(&context, "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo", &queue);
  void* tag = nullptr;
  bool ok = false;
  const auto step = [&](int expected_tag) {
    REQUIRE(queue.Next(&tag, &ok));
    REQUIRE(tag == reinterpret_cast<void*>(static_cast<std::intptr_t>(expected_tag)));
    return ok;
  };
  call->StartCall(reinterpret_cast<void*>(1));
  REQUIRE(step(1));
  const std::string request_bytes("\x3a\x00", 2);
  grpc::Slice slice(request_bytes);
  grpc::ByteBuffer request(&slice, 1);
  call->Write(request, reinterpret_cast<void*>(2));
  REQUIRE(step(2));
  call->WritesDone(reinterpret_cast<void*>(3));
  REQUIRE(step(3));
  grpc::ByteBuffer response;
  call->Read(&response, reinterpret_cast<void*>(4));
  REQUIRE(step(4));
  grpc::Status status;
  call->Finish(&status, reinterpret_cast<void*>(5));
  step(5);
  REQUIRE(status.ok());
  std::vector<grpc::Slice> slices;
  REQUIRE(response.Dump(&slices).ok());
  std::string bytes;
  for (const grpc::Slice& piece : slices)
    bytes.append(reinterpret_cast<const char*>(piece.begin()), piece.size());
  return bytes;
}

boost::json::object json_object(const std::string& body) {
  boost::json::error_code ec;
  boost::json::value value = boost::json::parse(body, ec);
  INFO("body: " << body);
  REQUIRE_FALSE(ec);
  REQUIRE(value.is_object());
  return value.as_object();
}

}  // namespace

TEST_CASE("the gateway is ready exactly when every service serves", "[integration]") {
  ScratchDatabase database;
  Stack stack(database.url(), redis_address().to_string());
  stack.start("gateway");
  const int port = stack.gateway_port();
  REQUIRE(wait_until([&] { return http_request(port, "GET", "/healthz").status == 200; }, 20s));

  SECTION("healthz answers while nothing else runs; readyz names every missing service") {
    const HttpResult health = http_request(port, "GET", "/healthz");
    CHECK(health.status == 200);
    const HttpResult ready = http_request(port, "GET", "/readyz");
    CHECK(ready.status == 503);
    for (const ServiceBinary& service : service_binaries())
      CHECK_THAT(ready.body, Catch::Contains(service.name));
  }

  SECTION("readyz turns 200 when all four serve, 503 while one is stopped, 200 after it returns") {
    for (const ServiceBinary& service : service_binaries()) stack.start(service.name);
    REQUIRE(wait_until([&] { return http_request(port, "GET", "/readyz").status == 200; }, 60s));

    // SIGTERM drains and exits 0; the gateway notices the missing service.
    CHECK(stack.process("critique").stop(SIGTERM, 15s) == std::optional<int>(0));
    HttpResult ready = http_request(port, "GET", "/readyz");
    CHECK(ready.status == 503);
    CHECK_THAT(ready.body, Catch::Contains("critique"));
    CHECK_THAT(ready.body, !Catch::Contains("\"arena\":\"UNREACHABLE\""));

    stack.start("critique");
    CHECK(wait_until([&] { return http_request(port, "GET", "/readyz").status == 200; }, 30s));

    // The request id a client sends reaches every service as gRPC metadata and appears in its log.
    const std::string request_id = "req_trace_readyz_0001";
    CHECK(http_request(port, "GET", "/readyz", {}, {{"X-Request-Id", request_id}}).status == 200);
    for (const ServiceBinary& service : service_binaries()) {
      INFO(service.name);
      CHECK(wait_until(
          [&] {
            const std::string log = stack.process(service.name).read_log();
            return log.find(request_id) != std::string::npos &&
                   log.find("/grpc.health.v1.Health/Check") != std::string::npos;
          },
          5s));
    }
  }

  SECTION("unknown routes answer 404 in the error envelope with the request id") {
    const HttpResult result = http_request(port, "GET", "/no/such/route");
    CHECK(result.status == 404);
    CHECK_THAT(result.header("content-type"), Catch::Contains("application/json"));
    const boost::json::object envelope = json_object(result.body);
    CHECK(envelope.at("success") == false);
    CHECK(envelope.at("error").at("code") == "NOT_FOUND");
    CHECK_FALSE(envelope.at("error").at("message").as_string().empty());
    CHECK(envelope.at("error").as_object().contains("details"));
    const std::string request_id(envelope.at("metadata").at("request_id").as_string());
    CHECK_FALSE(request_id.empty());
    CHECK(result.header("x-request-id") == request_id);
    CHECK(envelope.at("metadata").as_object().contains("timestamp"));
  }

  SECTION("metrics are served in the Prometheus text format") {
    http_request(port, "GET", "/healthz");
    const HttpResult metrics = http_request(port, "GET", "/metrics");
    CHECK(metrics.status == 200);
    CHECK_THAT(metrics.header("content-type"), Catch::StartsWith("text/plain; version=0.0.4"));
    CHECK_THAT(metrics.body, Catch::Contains("# TYPE "));
    CHECK_THAT(metrics.body, Catch::Contains("/healthz"));
  }
}

TEST_CASE("a service reports NOT_SERVING while Redis is down and SERVING after it returns", "[integration]") {
  ScratchDatabase database;
  RedisServer redis(free_port());
  Stack stack(database.url(), redis.address().to_string());
  stack.start("arena");
  const int port = stack.service_port("arena");
  REQUIRE(wait_until([&] { return grpc_health(port) == "SERVING"; }, 30s));
  CHECK(grpc_health(port, "rally.v1.Arena") == "SERVING");

  redis.stop();
  CHECK(wait_until([&] { return grpc_health(port) == "NOT_SERVING"; }, 10s));
  CHECK(grpc_health(port, "rally.v1.Arena") == "NOT_SERVING");

  redis.start();
  CHECK(wait_until([&] { return grpc_health(port) == "SERVING"; }, 10s));
}

TEST_CASE("a service waits for PostgreSQL, migrates, and follows its outages", "[integration]") {
  const int pg_port = free_port();
  std::optional<PostgresCluster> postgres;
  Stack stack("postgresql://rally@127.0.0.1:" + std::to_string(pg_port) + "/rally",
              redis_address().to_string());

  // Started before its database exists: alive, but not serving.
  stack.start("scoring");
  const int port = stack.service_port("scoring");
  REQUIRE(wait_until([&] { return grpc_health(port) == "NOT_SERVING"; }, 20s));

  postgres.emplace(pg_port);
  REQUIRE(wait_until([&] { return grpc_health(port) == "SERVING"; }, 20s));

  // Its migrations ran exactly once.
  {
    pqxx::connection connection(postgres->url());
    pqxx::nontransaction query(connection);
    // One row per migration file, each applied once.
    int files = 0;
    for (const auto& entry : std::filesystem::directory_iterator(std::string(RALLY_SOURCE_DIR) +
                                                                 "/services/scoring/migrations")) {
      if (entry.path().extension() == ".sql") ++files;
    }
    REQUIRE(files > 0);
    CHECK(query.exec1("SELECT count(*) FROM schema_migrations WHERE service = 'scoring'")[0].as<int>() ==
          files);
    CHECK(query.exec1("SELECT count(*) FROM pg_namespace WHERE nspname = 'scoring'")[0].as<int>() == 1);
  }

  postgres->stop();
  CHECK(wait_until([&] { return grpc_health(port) == "NOT_SERVING"; }, 10s));
  postgres->start();
  CHECK(wait_until([&] { return grpc_health(port) == "SERVING"; }, 10s));

  CHECK(stack.process("scoring").stop(SIGTERM, 15s) == std::optional<int>(0));
}

TEST_CASE("Criticize refuses an empty prompt and reports an unreachable chain at once", "[integration]") {
  ScratchDatabase database;
  Stack stack(database.url(), redis_address().to_string());
  stack.start("critique");
  const int port = stack.service_port("critique");
  REQUIRE(wait_until([&] { return grpc_health(port) == "SERVING"; }, 30s));

  auto stub = v1::Critique::NewStub(
      grpc::CreateChannel("127.0.0.1:" + std::to_string(port), grpc::InsecureChannelCredentials()));
  const auto criticize = [&](const std::string& prompt) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + 20s);
    v1::CriticizeRequest request;
    request.set_prompt(prompt);
    v1::CriticizeResponse response;
    return stub->Criticize(&context, request, &response);
  };
  const grpc::Status empty = criticize("  ");
  CHECK(empty.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK_THAT(empty.error_message(), Catch::Contains("Prompt is required"));
  // Refused connections, not the 20 s deadline: UNAVAILABLE with the chain named.
  const grpc::Status unreachable = criticize("Write a haiku about rain.");
  CHECK(unreachable.error_code() == grpc::StatusCode::UNAVAILABLE);
  CHECK_THAT(unreachable.error_message(), Catch::Contains("Ethereum node"));
}

TEST_CASE("every service exposes health and server reflection", "[integration]") {
  ScratchDatabase database;
  Stack stack(database.url(), redis_address().to_string());
  const std::map<std::string, std::string> grpc_names{{"llm-proxy", "rally.v1.LlmProxy"},
                                                      {"arena", "rally.v1.Arena"},
                                                      {"scoring", "rally.v1.Scoring"},
                                                      {"critique", "rally.v1.Critique"}};
  for (const auto& [name, grpc_name] : grpc_names) stack.start(name);
  for (const auto& [name, grpc_name] : grpc_names) {
    INFO(name);
    const int port = stack.service_port(name);
    REQUIRE(wait_until([&] { return grpc_health(port) == "SERVING"; }, 30s));
    CHECK(grpc_health(port, grpc_name) == "SERVING");
    CHECK(grpc_health(port, "rally.v1.NoSuchService") == "UNREACHABLE");  // NOT_FOUND for unknown names
    const std::string services = reflection_list_services(port);
    CHECK_THAT(services, Catch::Contains(grpc_name));
    CHECK_THAT(services, Catch::Contains("grpc.health.v1.Health"));
  }
}

TEST_CASE("a bad configuration value stops a binary with exit code 2 naming the key", "[integration]") {
  ScratchDatabase database;
  Stack stack(database.url(), redis_address().to_string());
  TemporaryDirectory logs("rally-stack-config-");
  std::map<std::string, std::string> env = stack.env();

  SECTION("a service") {
    env["RALLY_ARENA_ADDR"] = "not-an-address";
    ChildProcess arena({RALLY_ARENA_BIN}, env, logs.file("arena.log"));
    REQUIRE(wait_until([&] { return !arena.running(); }, 10s));
    CHECK(arena.stop(SIGKILL, 1s) == std::optional<int>(2));
    CHECK_THAT(arena.read_log(), Catch::Contains("RALLY_ARENA_ADDR"));
  }
  SECTION("the gateway") {
    env["RALLY_GATEWAY_BODY_LIMIT"] = "lots";
    ChildProcess gateway({RALLY_GATEWAY_BIN}, env, logs.file("gateway.log"));
    REQUIRE(wait_until([&] { return !gateway.running(); }, 10s));
    CHECK(gateway.stop(SIGKILL, 1s) == std::optional<int>(2));
    CHECK_THAT(gateway.read_log(), Catch::Contains("RALLY_GATEWAY_BODY_LIMIT"));
  }
}

}  // namespace rally::testing
