// Process-wide settings every rally binary makes at start, before its threads exist.
#pragma once

namespace rally::common {

// Switches off Abseil's lock-order (deadlock) detection, which Debian's Abseil runs on every absl::Mutex
// lock (the library is not built with NDEBUG): gRPC takes such locks on every call, and the checks cost a
// few percent of CPU on busy paths (docs/benchmarks.md). Debug builds of rally keep it.
void tune_runtime();

}  // namespace rally::common
