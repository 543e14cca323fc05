// The rally.v1.Critique gRPC service.
#pragma once

#include "rally/v1/critique.grpc.pb.h"

namespace rally::critique {

// RPCs not overridden here answer UNIMPLEMENTED (grpc's CallbackService default) until their issue
// implements them.
class CritiqueService final : public v1::Critique::CallbackService {};

}  // namespace rally::critique
