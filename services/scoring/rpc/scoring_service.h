// The rally.v1.Scoring gRPC service.
#pragma once

#include "rally/v1/scoring.grpc.pb.h"

namespace rally::scoring {

// RPCs not overridden here answer UNIMPLEMENTED (grpc's CallbackService default) until their issue
// implements them.
class ScoringService final : public v1::Scoring::CallbackService {};

}  // namespace rally::scoring
