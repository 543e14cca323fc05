// PeriodicTask: the work runs on its interval, and not once more after the task is destroyed.
#include "services/common/periodic_task.h"

#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <thread>

TEST_CASE("PeriodicTask runs its work on an interval and stops when destroyed", "[periodic_task]") {
  std::atomic<int> runs{0};
  {
    rally::common::PeriodicTask task(std::chrono::milliseconds(10), [&] { ++runs; });
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (runs < 3 && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  }
  const int at_stop = runs;
  CHECK(at_stop >= 3);
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  CHECK(runs == at_stop);
}
