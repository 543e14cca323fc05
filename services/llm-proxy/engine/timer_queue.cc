#include "services/llm-proxy/engine/timer_queue.h"

#include <algorithm>

namespace rally::llm_proxy {

TimerQueue::TimerQueue() : thread_([this] { run(); }) {}

TimerQueue::~TimerQueue() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

TimerQueue::TaskId TimerQueue::schedule_after(std::chrono::milliseconds delay, std::function<void()> task) {
  TaskId id = 0;
  {
    std::lock_guard lock(mutex_);
    id = next_id_++;
    const Clock::time_point due = Clock::now() + std::max(delay, std::chrono::milliseconds(0));
    tasks_.emplace(std::make_pair(due, id), std::move(task));
    due_by_id_.emplace(id, due);
  }
  wake_.notify_all();
  return id;
}

bool TimerQueue::cancel(TaskId id) {
  std::lock_guard lock(mutex_);
  const auto it = due_by_id_.find(id);
  if (it == due_by_id_.end()) return false;
  tasks_.erase(std::make_pair(it->second, id));
  due_by_id_.erase(it);
  return true;
}

std::size_t TimerQueue::pending() const {
  std::lock_guard lock(mutex_);
  return tasks_.size();
}

void TimerQueue::run() {
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    if (tasks_.empty()) {
      wake_.wait(lock);
      continue;
    }
    const auto first = tasks_.begin();
    // A copy: wait_until holds its argument by reference, and cancel() may erase the entry meanwhile.
    const Clock::time_point due = first->first.first;
    if (due > Clock::now()) {
      wake_.wait_until(lock, due);
      continue;
    }
    {
      std::function<void()> task = std::move(first->second);
      due_by_id_.erase(first->first.second);
      tasks_.erase(first);
      lock.unlock();
      task();
      // The task (and what it captured) is destroyed here, unlocked, so its destructors may use the queue.
    }
    lock.lock();
  }
}

}  // namespace rally::llm_proxy
