// Probes a service's dependencies (PostgreSQL, Redis, ...) on an interval on its own thread and reports
// whenever the set of failing dependencies changes, so health can flip to NOT_SERVING and back.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace rally::common {

class DependencyMonitor {
 public:
  struct Check {
    std::string name;             // "postgres", "redis"
    std::function<bool()> probe;  // true when healthy; must not block for long (use timeouts)
  };
  // Called on the monitor's thread with the names of failing checks (empty = all healthy): once after the
  // first round, then on every change.
  using Listener = std::function<void(const std::vector<std::string>& failing)>;

  DependencyMonitor(std::vector<Check> checks, std::chrono::milliseconds interval, Listener listener);
  ~DependencyMonitor();  // stops and joins
  DependencyMonitor(const DependencyMonitor&) = delete;
  DependencyMonitor& operator=(const DependencyMonitor&) = delete;

 private:
  void run();

  std::vector<Check> checks_;
  std::chrono::milliseconds interval_;
  Listener listener_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace rally::common
