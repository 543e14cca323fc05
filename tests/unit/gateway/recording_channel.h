// A WebSocketChannel for tests of fan-out code: it records what is sent, as a connection would queue it,
// and once closed refuses sends like a real one. Thread-safe.
#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <vector>

#include "gateway/ws/websocket.h"

namespace rally::gateway::testing {

class RecordingChannel final : public ws::WebSocketChannel {
 public:
  bool send(std::string text) override {
    std::lock_guard lock(mutex_);
    if (closed_) return false;
    sent_.push_back(std::move(text));
    arrived_.notify_all();
    return true;
  }
  void close() override {
    std::lock_guard lock(mutex_);
    closed_ = true;
  }
  const std::string& request_id() const override { return request_id_; }

  std::vector<std::string> sent() {
    std::lock_guard lock(mutex_);
    return sent_;
  }
  // What was sent once `count` messages arrived, or after two seconds.
  std::vector<std::string> wait_for(std::size_t count) {
    std::unique_lock lock(mutex_);
    arrived_.wait_for(lock, std::chrono::seconds(2), [&] { return sent_.size() >= count; });
    return sent_;
  }
  bool closed() {
    std::lock_guard lock(mutex_);
    return closed_;
  }

 private:
  const std::string request_id_ = "req_recording";
  std::mutex mutex_;
  std::condition_variable arrived_;
  bool closed_ = false;
  std::vector<std::string> sent_;
};

}  // namespace rally::gateway::testing
