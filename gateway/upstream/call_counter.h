// Counts the gRPC calls a route has in flight. Their callbacks run on gRPC's threads, so a route's state
// (and with it the gateway and the process) waits for the last one before it goes away; deadlines bound
// the wait.
#pragma once

#include <condition_variable>
#include <mutex>

namespace rally::gateway::upstream {

class CallCounter {
 public:
  CallCounter() = default;
  CallCounter(const CallCounter&) = delete;
  CallCounter& operator=(const CallCounter&) = delete;
  ~CallCounter() {
    std::unique_lock lock(mutex_);
    idle_.wait(lock, [this] { return count_ == 0; });
  }

  // Held by a call for its whole life: the first member, so it is released last.
  class Guard {
   public:
    explicit Guard(CallCounter& counter) : counter_(counter) {
      std::lock_guard lock(counter_.mutex_);
      ++counter_.count_;
    }
    ~Guard() {
      // Notified under the lock: the counter may be destroyed as soon as the lock is released.
      std::lock_guard lock(counter_.mutex_);
      --counter_.count_;
      counter_.idle_.notify_all();
    }
    Guard(const Guard&) = delete;
    Guard& operator=(const Guard&) = delete;

   private:
    CallCounter& counter_;
  };

 private:
  std::mutex mutex_;
  std::condition_variable idle_;
  int count_ = 0;
};

}  // namespace rally::gateway::upstream
