// Every gRPC call the gateway makes on behalf of a request starts here, so none goes out without the
// request id (services log it and return it) or without a deadline.
#pragma once

#include <chrono>
#include <string_view>

namespace grpc {
class ClientContext;
}

namespace rally::gateway::upstream {

// Sets the request id as metadata (common::kRequestIdMetadataKey) and a deadline `timeout` from now.
void prepare_call(grpc::ClientContext& context, std::string_view request_id,
                  std::chrono::milliseconds timeout);

}  // namespace rally::gateway::upstream
