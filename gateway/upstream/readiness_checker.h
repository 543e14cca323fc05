// Answers "can the gateway serve?" for /readyz: asks every service's standard gRPC health service
// (grpc.health.v1.Health/Check for the whole server, service "") in parallel, each call with a deadline.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace rally::gateway::upstream {

class UpstreamChannels;

struct ServiceHealth {
  std::string service;  // "llm-proxy"
  // The service's ServingStatus (SERVING, NOT_SERVING, UNKNOWN, SERVICE_UNKNOWN) when it answered;
  // UNREACHABLE, TIMEOUT or NO_HEALTH_SERVICE when it did not, ERROR for anything else.
  std::string state;
  bool serving = false;
};

struct ReadinessReport {
  std::vector<ServiceHealth> services;  // in UpstreamChannels::all() order

  bool ready() const;
};

class ReadinessChecker {
 public:
  using Callback = std::function<void(const ReadinessReport& report)>;

  ReadinessChecker(const UpstreamChannels& channels, std::chrono::milliseconds timeout);
  // Waits for checks in progress, which their deadlines bound.
  ~ReadinessChecker();
  ReadinessChecker(const ReadinessChecker&) = delete;
  ReadinessChecker& operator=(const ReadinessChecker&) = delete;

  // Checks every service at once; `done` runs exactly once, on a gRPC thread, when the last one answered or
  // timed out. The calls carry `request_id`.
  void check(const std::string& request_id, Callback done);

 private:
  struct Target;
  struct Round;

  void finish(Round& round);

  std::vector<std::unique_ptr<Target>> targets_;
  std::chrono::milliseconds timeout_;
  std::mutex mutex_;
  std::condition_variable idle_;
  int rounds_in_flight_ = 0;
};

}  // namespace rally::gateway::upstream
