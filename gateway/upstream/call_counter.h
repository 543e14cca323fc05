// Counts the gRPC calls a route has in flight. Their callbacks run on gRPC's threads, so a route's state
// (and with it the gateway and the process) waits for the last one before it goes away; deadlines bound
// the wait. Given a service's CallMetrics, it also measures each call, from its start to its end (for a
// stream, its last message), per upstream service:
//   rally_gateway_upstream_call_duration_seconds{service}   histogram
//   rally_gateway_upstream_calls_in_flight{service}         gauge
#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <string_view>

#include "services/common/metrics.h"

namespace rally::gateway::upstream {

struct CallMetrics {
  common::metrics::Histogram* duration = nullptr;
  common::metrics::Gauge* in_flight = nullptr;

  // The children of `registry`'s upstream families for `service` ("llm-proxy", "arena", ...).
  static CallMetrics of(common::metrics::Registry& registry, std::string_view service) {
    const std::string label(service);
    return {
        &registry
             .histogram("rally_gateway_upstream_call_duration_seconds",
                        "Time from the start of a gRPC call to a service to its end (a stream's whole life)",
                        {"service"})
             .labels({label}),
        &registry
             .gauge("rally_gateway_upstream_calls_in_flight", "gRPC calls to a service not yet ended",
                    {"service"})
             .labels({label})};
  }
};

class CallCounter {
 public:
  explicit CallCounter(CallMetrics metrics = {}) : metrics_(metrics) {}
  CallCounter(const CallCounter&) = delete;
  CallCounter& operator=(const CallCounter&) = delete;
  ~CallCounter() {
    std::unique_lock lock(mutex_);
    idle_.wait(lock, [this] { return count_ == 0; });
  }

  // Held by a call for its whole life: the first member, so it is released last.
  class Guard {
   public:
    explicit Guard(CallCounter& counter) : counter_(counter), started_(std::chrono::steady_clock::now()) {
      std::lock_guard lock(counter_.mutex_);
      ++counter_.count_;
      if (counter_.metrics_.in_flight != nullptr) counter_.metrics_.in_flight->inc();
    }
    ~Guard() {
      const CallMetrics& metrics = counter_.metrics_;
      if (metrics.duration != nullptr) {
        metrics.duration->observe(
            std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count());
      }
      if (metrics.in_flight != nullptr) metrics.in_flight->dec();
      // Notified under the lock: the counter may be destroyed as soon as the lock is released.
      std::lock_guard lock(counter_.mutex_);
      --counter_.count_;
      counter_.idle_.notify_all();
    }
    Guard(const Guard&) = delete;
    Guard& operator=(const Guard&) = delete;

   private:
    CallCounter& counter_;
    std::chrono::steady_clock::time_point started_;
  };

 private:
  const CallMetrics metrics_;
  std::mutex mutex_;
  std::condition_variable idle_;
  int count_ = 0;
};

}  // namespace rally::gateway::upstream
