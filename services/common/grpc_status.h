// Carrying common::Error across gRPC: the status code from the error table plus a serialized
// rally.v1.ErrorDetail in the status details, so the REST code survives the hop exactly.
#pragma once

#include <grpcpp/support/status.h>

#include "services/common/errors.h"

namespace rally::common {

grpc::Status to_grpc_status(const Error& error);
// Uses the ErrorDetail when present; otherwise maps the gRPC code through the table (DEADLINE_EXCEEDED ->
// API_TIMEOUT, UNAVAILABLE -> SERVICE_UNAVAILABLE, ...) and keeps the status message.
Error from_grpc_status(const grpc::Status& status);

}  // namespace rally::common
