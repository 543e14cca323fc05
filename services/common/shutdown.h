// SIGINT/SIGTERM handling for binaries that drain before exiting: block the signals before any thread
// starts (threads inherit the mask), then wait for one synchronously in main().
#pragma once

namespace rally::common {

// Call first thing in main(), before any thread exists.
void block_shutdown_signals();
// Blocks the calling thread until SIGINT or SIGTERM arrives; returns the signal number.
int wait_for_shutdown_signal();

}  // namespace rally::common
