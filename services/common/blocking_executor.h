// A few threads for blocking work (PostgreSQL queries) that gRPC callback handlers must not do on gRPC's
// own threads: a handler posts the work here and finishes its reactor from the task. The queue is bounded,
// so an overloaded service refuses work (RESOURCE_EXHAUSTED) instead of queueing without limit.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace rally::common {

class BlockingExecutor {
 public:
  BlockingExecutor(std::size_t threads, std::size_t max_queued);
  // Runs the tasks already queued, then joins the threads.
  ~BlockingExecutor();
  BlockingExecutor(const BlockingExecutor&) = delete;
  BlockingExecutor& operator=(const BlockingExecutor&) = delete;

  // Queues `task`; false (and `task` dropped, unrun) when max_queued tasks are already waiting or the
  // executor is stopping. Tasks must not throw. Any thread.
  bool post(std::function<void()> task);

 private:
  void run();

  const std::size_t max_queued_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<std::function<void()>> queue_;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace rally::common
