#include "services/common/dependency_monitor.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <utility>

namespace rally::common {

DependencyMonitor::DependencyMonitor(std::vector<Check> checks, std::chrono::milliseconds interval,
                                     Listener listener)
    : checks_(std::move(checks)), interval_(interval), listener_(std::move(listener)) {
  thread_ = std::thread([this] { run(); });
}

DependencyMonitor::~DependencyMonitor() {
  {
    std::lock_guard lock(mutex_);
    stop_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

void DependencyMonitor::run() {
  std::vector<std::string> previous;
  bool first_round = true;
  std::unique_lock lock(mutex_);
  while (!stop_) {
    lock.unlock();
    std::vector<std::string> failing;
    for (const Check& check : checks_) {
      bool healthy = false;
      try {
        healthy = check.probe();
      } catch (const std::exception& e) {
        spdlog::debug("health probe {} threw: {}", check.name, e.what());
      }
      if (!healthy) failing.push_back(check.name);
    }
    if (first_round || failing != previous) {
      for (const std::string& name : failing) {
        spdlog::warn("dependency {} is unreachable", name);
      }
      if (!first_round) {
        for (const std::string& name : previous) {
          if (std::find(failing.begin(), failing.end(), name) == failing.end()) {
            spdlog::info("dependency {} is reachable again", name);
          }
        }
      }
      listener_(failing);
      previous = std::move(failing);
      first_round = false;
    }
    lock.lock();
    wake_.wait_for(lock, interval_, [this] { return stop_; });
  }
}

}  // namespace rally::common
