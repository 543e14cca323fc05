#include "services/common/shutdown.h"

#include <csignal>
#include <cstdio>
#include <cstdlib>

namespace rally::common {
namespace {

sigset_t shutdown_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  return set;
}

}  // namespace

void block_shutdown_signals() {
  const sigset_t set = shutdown_signals();
  if (pthread_sigmask(SIG_BLOCK, &set, nullptr) != 0) {
    std::perror("pthread_sigmask");
    std::abort();  // without it a signal could kill the process mid-drain
  }
}

int wait_for_shutdown_signal() {
  const sigset_t set = shutdown_signals();
  int signal_number = 0;
  while (sigwait(&set, &signal_number) != 0) {
  }
  return signal_number;
}

}  // namespace rally::common
