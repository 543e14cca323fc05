// Runs tasks after a delay on one thread of its own: the engine's backoff waits between attempts. A waiting
// retry holds no thread and no connection, only an entry here.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <thread>
#include <utility>

namespace rally::llm_proxy {

class TimerQueue {
 public:
  using TaskId = std::uint64_t;

  TimerQueue();
  // Stops the thread; tasks that have not run are dropped without running.
  ~TimerQueue();
  TimerQueue(const TimerQueue&) = delete;
  TimerQueue& operator=(const TimerQueue&) = delete;

  // Runs `task` on the queue's thread once `delay` has passed (tasks due at the same time run in the order
  // they were scheduled). Tasks must not block. Any thread.
  TaskId schedule_after(std::chrono::milliseconds delay, std::function<void()> task);
  // Removes a task that has not started; returns false when it already ran, is running or never existed.
  bool cancel(TaskId id);
  std::size_t pending() const;

 private:
  using Clock = std::chrono::steady_clock;
  void run();

  mutable std::mutex mutex_;
  std::condition_variable wake_;
  // Ordered by due time, then by id (the scheduling order).
  std::map<std::pair<Clock::time_point, TaskId>, std::function<void()>> tasks_;
  std::map<TaskId, Clock::time_point> due_by_id_;
  TaskId next_id_ = 1;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace rally::llm_proxy
