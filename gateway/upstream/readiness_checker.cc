#include "gateway/upstream/readiness_checker.h"

#include <grpcpp/channel.h>
#include <grpcpp/client_context.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <deque>

#include "gateway/upstream/upstream_call.h"
#include "gateway/upstream/upstream_channels.h"
#include "grpc/health/v1/health.grpc.pb.h"

namespace rally::gateway::upstream {
namespace {

using grpc::health::v1::HealthCheckRequest;
using grpc::health::v1::HealthCheckResponse;

ServiceHealth describe(std::string service, const grpc::Status& status, const HealthCheckResponse& response) {
  ServiceHealth health{std::move(service), {}, false};
  if (status.ok()) {
    health.state = HealthCheckResponse::ServingStatus_Name(response.status());
    health.serving = response.status() == HealthCheckResponse::SERVING;
    return health;
  }
  switch (status.error_code()) {
    case grpc::StatusCode::UNAVAILABLE:
      health.state = "UNREACHABLE";
      break;
    case grpc::StatusCode::DEADLINE_EXCEEDED:
      health.state = "TIMEOUT";
      break;
    case grpc::StatusCode::UNIMPLEMENTED:
      health.state = "NO_HEALTH_SERVICE";
      break;
    default:
      health.state = "ERROR";
      break;
  }
  spdlog::debug("readiness: {} is {}: {}", health.service, health.state, status.error_message());
  return health;
}

}  // namespace

bool ReadinessReport::ready() const {
  return std::all_of(services.begin(), services.end(), [](const ServiceHealth& s) { return s.serving; });
}

struct ReadinessChecker::Target {
  std::string name;
  std::unique_ptr<grpc::health::v1::Health::Stub> stub;
};

// One check of all services. The calls' state lives here, so it outlives every callback of the round.
struct ReadinessChecker::Round {
  struct Call {
    grpc::ClientContext context;
    HealthCheckRequest request;
    HealthCheckResponse response;
  };

  explicit Round(Callback callback, std::size_t size) : done(std::move(callback)), remaining(size) {
    report.services.resize(size);
  }

  Callback done;
  std::deque<Call> calls;  // a deque: ClientContext cannot move
  std::mutex mutex;
  ReadinessReport report;
  std::size_t remaining;
};

ReadinessChecker::ReadinessChecker(const UpstreamChannels& channels, std::chrono::milliseconds timeout)
    : timeout_(timeout) {
  for (const auto& [name, channel] : channels.all()) {
    targets_.push_back(
        std::make_unique<Target>(Target{std::string(name), grpc::health::v1::Health::NewStub(channel)}));
  }
}

ReadinessChecker::~ReadinessChecker() {
  std::unique_lock lock(mutex_);
  idle_.wait(lock, [this] { return rounds_in_flight_ == 0; });
}

void ReadinessChecker::check(const std::string& request_id, Callback done) {
  auto round = std::make_shared<Round>(std::move(done), targets_.size());
  {
    std::lock_guard lock(mutex_);
    ++rounds_in_flight_;
  }
  // Every call is prepared before any starts: a fast callback must not see the deque grow.
  for (std::size_t i = 0; i < targets_.size(); ++i) {
    prepare_call(round->calls.emplace_back().context, request_id, timeout_);
  }
  for (std::size_t i = 0; i < targets_.size(); ++i) {
    Round::Call& call = round->calls[i];
    targets_[i]->stub->async()->Check(
        &call.context, &call.request, &call.response, [this, round, i](const grpc::Status& status) {
          bool last = false;
          {
            std::lock_guard lock(round->mutex);
            round->report.services[i] = describe(targets_[i]->name, status, round->calls[i].response);
            last = --round->remaining == 0;
          }
          if (last) {
            finish(*round);
          }
        });
  }
}

void ReadinessChecker::finish(Round& round) {
  round.done(round.report);
  // Notified under the lock: the destructor may run as soon as it sees zero.
  std::lock_guard lock(mutex_);
  --rounds_in_flight_;
  idle_.notify_all();
}

}  // namespace rally::gateway::upstream
