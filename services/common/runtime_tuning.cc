#include "services/common/runtime_tuning.h"

#include <absl/synchronization/mutex.h>

namespace rally::common {

void tune_runtime() {
#ifdef NDEBUG
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
#endif
}

}  // namespace rally::common
