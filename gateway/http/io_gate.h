// Lets threads outside the server (gRPC callbacks completing an exchange) reach a connection only while
// the server's I/O is alive. The server closes the gate after joining its I/O threads and before
// destroying the io_context, so a late response is dropped instead of being posted to a dead executor.
#pragma once

#include <shared_mutex>

namespace rally::gateway::http {

class IoGate {
 public:
  // Runs `action` (which returns bool) under the gate; false without running it once the gate is closed.
  template <typename Action>
  bool run_if_open(Action&& action) {
    std::shared_lock lock(mutex_);
    return open_ && action();
  }

  // Waits for actions in progress, then refuses all later ones.
  void close() {
    std::unique_lock lock(mutex_);
    open_ = false;
  }

 private:
  std::shared_mutex mutex_;
  bool open_ = true;
};

}  // namespace rally::gateway::http
