#include "services/common/errors.h"

#include <array>
#include <cstddef>
#include <stdexcept>

namespace rally::common {
namespace {

using grpc::StatusCode;

// The one table. Rows are in enum order so that info() is an index; the static_asserts below keep it so.
constexpr std::array<ErrorCodeInfo, 20> kTable{{
    {ErrorCode::kInvalidRequest, "INVALID_REQUEST", 400, StatusCode::INVALID_ARGUMENT},
    {ErrorCode::kAuthenticationFailed, "AUTHENTICATION_FAILED", 401, StatusCode::UNAUTHENTICATED},
    {ErrorCode::kAuthorizationFailed, "AUTHORIZATION_FAILED", 403, StatusCode::PERMISSION_DENIED},
    {ErrorCode::kModelNotFound, "MODEL_NOT_FOUND", 404, StatusCode::NOT_FOUND},
    {ErrorCode::kNotFound, "NOT_FOUND", 404, StatusCode::NOT_FOUND},
    // 405, 413, 414, 415 and 431 are produced by the gateway's HTTP layer and never cross gRPC; should one
    // ever be sent, INVALID_ARGUMENT is the closest meaning ("the request itself is unacceptable").
    {ErrorCode::kMethodNotAllowed, "METHOD_NOT_ALLOWED", 405, StatusCode::INVALID_ARGUMENT},
    // ALREADY_EXISTS rather than FAILED_PRECONDITION: our conflicts are "this thing was already created"
    // (a battle's vote), and it keeps the bare-code fallback (ALREADY_EXISTS -> CONFLICT) a round trip.
    {ErrorCode::kConflict, "CONFLICT", 409, StatusCode::ALREADY_EXISTS},
    {ErrorCode::kPayloadTooLarge, "PAYLOAD_TOO_LARGE", 413, StatusCode::INVALID_ARGUMENT},
    {ErrorCode::kUriTooLong, "URI_TOO_LONG", 414, StatusCode::INVALID_ARGUMENT},
    {ErrorCode::kUnsupportedMediaType, "UNSUPPORTED_MEDIA_TYPE", 415, StatusCode::INVALID_ARGUMENT},
    {ErrorCode::kRateLimitExceeded, "RATE_LIMIT_EXCEEDED", 429, StatusCode::RESOURCE_EXHAUSTED},
    {ErrorCode::kHeadersTooLarge, "HEADERS_TOO_LARGE", 431, StatusCode::INVALID_ARGUMENT},
    {ErrorCode::kScoringFailed, "SCORING_FAILED", 500, StatusCode::INTERNAL},
    // A database failure is an outage of a dependency, which is transient: UNAVAILABLE tells gRPC callers
    // that retrying later may work. The REST code stays DATABASE_ERROR/500 because the ErrorDetail carries
    // it.
    {ErrorCode::kDatabaseError, "DATABASE_ERROR", 500, StatusCode::UNAVAILABLE},
    {ErrorCode::kInternal, "INTERNAL_ERROR", 500, StatusCode::INTERNAL},
    {ErrorCode::kUnimplemented, "NOT_IMPLEMENTED", 501, StatusCode::UNIMPLEMENTED},
    // INTERNAL, not UNAVAILABLE: the service answering is healthy, it is the provider behind it that failed.
    // UNAVAILABLE would read as "this service is down" on dashboards and invite retries of a generation that
    // costs money and usually fails the same way again.
    {ErrorCode::kUpstreamError, "UPSTREAM_ERROR", 502, StatusCode::INTERNAL},
    {ErrorCode::kServiceUnavailable, "SERVICE_UNAVAILABLE", 503, StatusCode::UNAVAILABLE},
    {ErrorCode::kChainUnavailable, "CHAIN_UNAVAILABLE", 503, StatusCode::UNAVAILABLE},
    {ErrorCode::kApiTimeout, "API_TIMEOUT", 504, StatusCode::DEADLINE_EXCEEDED},
}};

constexpr bool rows_are_in_enum_order() {
  for (std::size_t i = 0; i < kTable.size(); ++i) {
    if (static_cast<std::size_t>(kTable[i].code) != i) {
      return false;
    }
  }
  return true;
}

// kApiTimeout is the last enumerator: whoever appends one must add its row and update this line.
static_assert(kTable.size() == static_cast<std::size_t>(ErrorCode::kApiTimeout) + 1,
              "the error table needs exactly one row per ErrorCode");
static_assert(rows_are_in_enum_order(), "the error table's rows must be in ErrorCode order");

}  // namespace

const std::vector<ErrorCodeInfo>& error_code_table() {
  static const std::vector<ErrorCodeInfo> table(kTable.begin(), kTable.end());
  return table;
}

const ErrorCodeInfo& info(ErrorCode code) {
  const auto index = static_cast<std::size_t>(code);
  if (index >= kTable.size()) {
    throw std::out_of_range("ErrorCode " + std::to_string(index) + " is not in the error table");
  }
  return kTable[index];
}

std::optional<ErrorCode> error_code_from_rest(std::string_view rest_code) {
  for (const ErrorCodeInfo& row : kTable) {
    if (row.rest_code == rest_code) {
      return row.code;
    }
  }
  return std::nullopt;
}

ErrorCode error_code_from_grpc(grpc::StatusCode code) {
  switch (code) {
    case StatusCode::DEADLINE_EXCEEDED:
      return ErrorCode::kApiTimeout;
    case StatusCode::UNAVAILABLE:
      return ErrorCode::kServiceUnavailable;
    case StatusCode::NOT_FOUND:
      return ErrorCode::kNotFound;
    case StatusCode::INVALID_ARGUMENT:
    case StatusCode::OUT_OF_RANGE:
    case StatusCode::FAILED_PRECONDITION:
      return ErrorCode::kInvalidRequest;
    case StatusCode::UNAUTHENTICATED:
      return ErrorCode::kAuthenticationFailed;
    case StatusCode::PERMISSION_DENIED:
      return ErrorCode::kAuthorizationFailed;
    case StatusCode::RESOURCE_EXHAUSTED:
      return ErrorCode::kRateLimitExceeded;
    case StatusCode::ALREADY_EXISTS:
      return ErrorCode::kConflict;
    case StatusCode::UNIMPLEMENTED:
      return ErrorCode::kUnimplemented;
    default:
      // OK, CANCELLED, UNKNOWN, ABORTED, INTERNAL, DATA_LOSS: nothing the API user can act on.
      return ErrorCode::kInternal;
  }
}

}  // namespace rally::common
