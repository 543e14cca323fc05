// The REST error envelope (docs: scoring API reference, "Standard Error Response"), built here and nowhere
// else. The HTTP status and the "code" string come from the suite's one error table
// (services/common/errors.h):
//
//   {"success":false,
//    "error":{"code":"NOT_FOUND","message":"No route for GET /x","details":{"path":"/x"}},
//    "metadata":{"request_id":"req_...","timestamp":"2026-11-22T10:00:00Z"}}
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "gateway/http/response.h"
#include "services/common/errors.h"

namespace grpc {
class Status;
}

namespace rally::gateway::http {

// The envelope's JSON text; `details` is always an object (empty when the error has none).
std::string render_error_envelope(const common::Error& error, std::string_view request_id,
                                  std::chrono::system_clock::time_point now);

// The whole response: status from the error table, JSON body stamped with the current time.
Response error_response(const common::Error& error, std::string_view request_id);
// For a failed upstream call: the service's rally.v1.ErrorDetail when it sent one, otherwise the table's
// mapping of the gRPC code (UNAVAILABLE -> 503 SERVICE_UNAVAILABLE, DEADLINE_EXCEEDED -> 504 API_TIMEOUT).
Response error_response(const grpc::Status& status, std::string_view request_id);

// The success envelope of the /api/v1 routes, its counterpart:
//
//   {"success":true,"data":{...},
//    "metadata":{"request_id":"req_...","timestamp":"2026-11-22T10:00:00Z","processing_time_ms":1.25}}
//
// `data_json` is serialized JSON (an object, an array or any value), spliced in as it is.
// `extra_metadata` is more members of "metadata", rendered JSON without braces
// (`"total_models":25,"filtered_models":10`), appended after processing_time_ms when not empty; the
// caller makes sure its names do not repeat the three above.
std::string render_success_envelope(std::string_view data_json, std::string_view request_id,
                                    std::chrono::system_clock::time_point now, double processing_time_ms,
                                    std::string_view extra_metadata = {});
// The whole response, stamped with the current time; processing_time_ms counts from `started` (when the
// handler began).
Response success_response(std::string_view data_json, std::string_view request_id,
                          std::chrono::steady_clock::time_point started, int status = 200,
                          std::string_view extra_metadata = {});

// UTC, whole seconds: "2026-11-22T10:00:00Z".
std::string format_timestamp(std::chrono::system_clock::time_point time);

}  // namespace rally::gateway::http
