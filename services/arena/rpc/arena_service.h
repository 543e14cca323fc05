// The rally.v1.Arena gRPC service.
#pragma once

#include "rally/v1/arena.grpc.pb.h"

namespace rally::arena {

// RPCs not overridden here answer UNIMPLEMENTED (grpc's CallbackService default) until their issue
// implements them.
class ArenaService final : public v1::Arena::CallbackService {};

}  // namespace rally::arena
