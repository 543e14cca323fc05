#include "gateway/upstream/readiness_checker.h"

#include <grpcpp/security/server_credentials.h>
#include <grpcpp/server.h>
#include <grpcpp/server_builder.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <future>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "gateway/upstream/upstream_channels.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "services/common/request_id.h"
#include "tests/unit/gateway/test_connection.h"

namespace rally::gateway::upstream {
namespace {

using grpc::health::v1::HealthCheckRequest;
using grpc::health::v1::HealthCheckResponse;
using namespace std::chrono_literals;

// A health service answering a fixed status (or holding calls until release(), to provoke deadlines) and
// recording what the gateway sent.
class FakeHealthService final : public grpc::health::v1::Health::CallbackService {
 public:
  explicit FakeHealthService(HealthCheckResponse::ServingStatus status, bool hold_calls = false)
      : status_(status), hold_calls_(hold_calls) {}

  grpc::ServerUnaryReactor* Check(grpc::CallbackServerContext* context, const HealthCheckRequest* request,
                                  HealthCheckResponse* response) override {
    auto* reactor = context->DefaultReactor();
    std::lock_guard lock(mutex_);
    const auto& metadata = context->client_metadata();
    const auto id = metadata.find(std::string(common::kRequestIdMetadataKey));
    request_ids_.emplace_back(id == metadata.end() ? "" : std::string(id->second.data(), id->second.size()));
    services_.push_back(request->service());
    response->set_status(status_);
    if (hold_calls_) {
      held_.push_back(reactor);
    } else {
      reactor->Finish(grpc::Status::OK);
    }
    return reactor;
  }

  void release() {
    std::lock_guard lock(mutex_);
    for (auto* reactor : held_) {
      reactor->Finish(grpc::Status::OK);
    }
    held_.clear();
  }

  std::vector<std::string> request_ids() {
    std::lock_guard lock(mutex_);
    return request_ids_;
  }
  std::vector<std::string> services() {
    std::lock_guard lock(mutex_);
    return services_;
  }

 private:
  const HealthCheckResponse::ServingStatus status_;
  const bool hold_calls_;
  std::mutex mutex_;
  std::vector<std::string> request_ids_;
  std::vector<std::string> services_;
  std::vector<grpc::ServerUnaryReactor*> held_;
};

struct RunningServer {
  explicit RunningServer(FakeHealthService& service) {
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
    builder.RegisterService(&service);
    server = builder.BuildAndStart();
    REQUIRE(server != nullptr);
  }
  ~RunningServer() { server->Shutdown(std::chrono::system_clock::now() + 1s); }

  int port = 0;
  std::unique_ptr<grpc::Server> server;
};

common::HostPort local(int port) {
  return {"127.0.0.1", static_cast<std::uint16_t>(port)};
}

ReadinessReport check_now(ReadinessChecker& checker, const std::string& request_id) {
  std::promise<ReadinessReport> answered;
  auto report = answered.get_future();
  checker.check(request_id, [&answered](const ReadinessReport& r) { answered.set_value(r); });
  REQUIRE(report.wait_for(10s) == std::future_status::ready);
  return report.get();
}

TEST_CASE("readiness reports each service's state and is ready only when all serve", "[readiness]") {
  FakeHealthService serving(HealthCheckResponse::SERVING);
  FakeHealthService not_serving(HealthCheckResponse::NOT_SERVING);
  FakeHealthService also_serving(HealthCheckResponse::SERVING);
  RunningServer serving_server(serving);
  RunningServer not_serving_server(not_serving);
  RunningServer also_serving_server(also_serving);

  const UpstreamChannels channels({local(serving_server.port), local(not_serving_server.port),
                                   local(testing::unused_port()), local(also_serving_server.port)});
  ReadinessChecker checker(channels, 2s);

  const ReadinessReport report = check_now(checker, "req_readiness_1");
  REQUIRE(report.services.size() == 4);
  CHECK(report.services[0].service == "llm-proxy");
  CHECK(report.services[0].state == "SERVING");
  CHECK(report.services[0].serving);
  CHECK(report.services[1].service == "arena");
  CHECK(report.services[1].state == "NOT_SERVING");
  CHECK_FALSE(report.services[1].serving);
  CHECK(report.services[2].service == "scoring");
  CHECK(report.services[2].state == "UNREACHABLE");
  CHECK_FALSE(report.services[2].serving);
  CHECK(report.services[3].service == "critique");
  CHECK(report.services[3].serving);
  CHECK_FALSE(report.ready());

  // Every call carried the request id and asked about the whole server (service "").
  CHECK(serving.request_ids() == std::vector<std::string>{"req_readiness_1"});
  CHECK(not_serving.request_ids() == std::vector<std::string>{"req_readiness_1"});
  CHECK(serving.services() == std::vector<std::string>{""});
}

TEST_CASE("readiness is ready when every service serves", "[readiness]") {
  FakeHealthService services[] = {
      FakeHealthService(HealthCheckResponse::SERVING), FakeHealthService(HealthCheckResponse::SERVING),
      FakeHealthService(HealthCheckResponse::SERVING), FakeHealthService(HealthCheckResponse::SERVING)};
  RunningServer a(services[0]), b(services[1]), c(services[2]), d(services[3]);
  const UpstreamChannels channels({local(a.port), local(b.port), local(c.port), local(d.port)});
  ReadinessChecker checker(channels, 2s);
  CHECK(check_now(checker, "req_all").ready());
}

TEST_CASE("a service that does not answer in time is reported as TIMEOUT, in parallel with the others",
          "[readiness]") {
  FakeHealthService slow(HealthCheckResponse::SERVING, /*hold_calls=*/true);
  FakeHealthService serving(HealthCheckResponse::SERVING);
  RunningServer slow_server(slow);
  RunningServer serving_server(serving);
  const UpstreamChannels channels({local(serving_server.port), local(slow_server.port),
                                   local(serving_server.port), local(slow_server.port)});
  ReadinessChecker checker(channels, 300ms);

  const auto started = std::chrono::steady_clock::now();
  const ReadinessReport report = check_now(checker, "req_slow");
  const auto elapsed = std::chrono::steady_clock::now() - started;
  slow.release();

  CHECK(report.services[0].state == "SERVING");
  CHECK(report.services[1].state == "TIMEOUT");
  CHECK(report.services[3].state == "TIMEOUT");
  CHECK_FALSE(report.ready());
  // Two slow services cost one deadline, not two: the checks run in parallel.
  CHECK(elapsed < 550ms);
}

}  // namespace
}  // namespace rally::gateway::upstream
