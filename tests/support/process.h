// Child processes for integration tests: the suite's binaries, redis-server, PostgreSQL. A process is
// terminated (SIGTERM, then SIGKILL after a grace period) when its handle is destroyed, so a failing test
// never leaves servers behind.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace rally::testing {

class ChildProcess {
 public:
  // Starts `argv[0]` (a path, or a name looked up on PATH) with the current environment plus `env`.
  // stdout and stderr go to `log_file` (appended), so tests can read what a binary logged.
  ChildProcess(std::vector<std::string> argv, std::map<std::string, std::string> env, std::string log_file);
  ~ChildProcess();
  ChildProcess(ChildProcess&& other) noexcept;
  ChildProcess& operator=(ChildProcess&&) = delete;
  ChildProcess(const ChildProcess&) = delete;

  pid_t pid() const { return pid_; }
  bool running();
  // Sends `signal` and waits up to `timeout` for exit; returns the exit status (or 128+signal), nullopt if
  // it is still running.
  std::optional<int> stop(int signal, std::chrono::milliseconds timeout);
  const std::string& log_file() const { return log_file_; }
  std::string read_log() const;

 private:
  pid_t pid_ = -1;
  std::optional<int> exit_status_;
  std::string log_file_;
};

// Polls `condition` every 50 ms until it returns true or `timeout` passes; returns its last value.
template <typename Condition>
bool wait_until(Condition condition, std::chrono::milliseconds timeout);

}  // namespace rally::testing

#include "tests/support/process_inl.h"
