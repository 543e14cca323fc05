#include "gateway/upstream/upstream_call.h"

#include <grpcpp/client_context.h>

#include <string>

#include "services/common/request_id.h"

namespace rally::gateway::upstream {

void prepare_call(grpc::ClientContext& context, std::string_view request_id,
                  std::chrono::milliseconds timeout) {
  context.AddMetadata(std::string(common::kRequestIdMetadataKey), std::string(request_id));
  context.set_deadline(std::chrono::system_clock::now() + timeout);
}

}  // namespace rally::gateway::upstream
