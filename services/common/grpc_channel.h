// The channel every LlamaRally client (the gateway, and services calling each other) opens to a service.
#pragma once

#include <grpcpp/channel.h>

#include <memory>

#include "services/common/config.h"

namespace rally::common {

// An insecure channel to `address`, connecting at once, that:
// - balances calls over every address the name resolves to (round_robin): behind a headless Kubernetes
//   Service that is every ready replica, so replicas an autoscaler adds take calls once the name is resolved
//   again (servers end connections after RALLY_GRPC_MAX_CONNECTION_AGE, which makes clients re-resolve);
// - retries connecting briskly (250 ms growing to 2 s) instead of gRPC's 120 s ceiling, so a restarted
//   service is not taken for down that long.
std::shared_ptr<grpc::Channel> make_service_channel(const HostPort& address);

}  // namespace rally::common
