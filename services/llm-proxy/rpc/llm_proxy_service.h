// The rally.v1.LlmProxy gRPC service.
#pragma once

#include "rally/v1/llm_proxy.grpc.pb.h"

namespace rally::llm_proxy {

// RPCs not overridden here answer UNIMPLEMENTED (grpc's CallbackService default) until their issue
// implements them.
class LlmProxyService final : public v1::LlmProxy::CallbackService {};

}  // namespace rally::llm_proxy
