#include "services/llm-proxy/engine/timer_queue.h"

#include <catch2/catch.hpp>
#include <future>
#include <mutex>
#include <vector>

namespace rally::llm_proxy {
namespace {

using namespace std::chrono_literals;

TEST_CASE("TimerQueue runs tasks in due order, not scheduling order") {
  TimerQueue timers;
  std::mutex mutex;
  std::vector<int> order;
  std::promise<void> all_ran;
  const auto note = [&](int value) {
    std::lock_guard lock(mutex);
    order.push_back(value);
    if (order.size() == 3) all_ran.set_value();
  };
  timers.schedule_after(60ms, [&] { note(3); });
  timers.schedule_after(0ms, [&] { note(1); });
  timers.schedule_after(30ms, [&] { note(2); });
  REQUIRE(all_ran.get_future().wait_for(10s) == std::future_status::ready);
  CHECK(order == std::vector<int>{1, 2, 3});
}

TEST_CASE("A cancelled task never runs, and cancelling twice or after running reports false") {
  TimerQueue timers;
  std::promise<void> later_ran;
  bool cancelled_ran = false;
  const TimerQueue::TaskId id = timers.schedule_after(20ms, [&] { cancelled_ran = true; });
  CHECK(timers.cancel(id));
  CHECK_FALSE(timers.cancel(id));
  const TimerQueue::TaskId later = timers.schedule_after(40ms, [&] { later_ran.set_value(); });
  REQUIRE(later_ran.get_future().wait_for(10s) == std::future_status::ready);
  CHECK_FALSE(cancelled_ran);
  CHECK_FALSE(timers.cancel(later));
  CHECK(timers.pending() == 0);
}

TEST_CASE("Destroying the queue drops tasks that have not run") {
  bool ran = false;
  {
    TimerQueue timers;
    timers.schedule_after(1h, [&] { ran = true; });
    CHECK(timers.pending() == 1);
  }
  CHECK_FALSE(ran);
}

TEST_CASE("A task may schedule and cancel on its own queue") {
  TimerQueue timers;
  std::promise<void> second_ran;
  timers.schedule_after(0ms, [&] {
    const auto doomed = timers.schedule_after(1h, [] {});
    timers.cancel(doomed);
    timers.schedule_after(0ms, [&] { second_ran.set_value(); });
  });
  REQUIRE(second_ran.get_future().wait_for(10s) == std::future_status::ready);
}

}  // namespace
}  // namespace rally::llm_proxy
