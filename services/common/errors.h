// One error model for the whole suite. Every domain error has a code; the table in errors.cc maps each code
// to its REST error code and HTTP status (the scoring API's envelope) and to a gRPC status code. Services
// return these as grpc::Status (see grpc_status.h); the gateway turns them back into the envelope. No route
// or handler invents its own mapping.
#pragma once

#include <grpcpp/support/status_code_enum.h>

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace rally::common {

enum class ErrorCode {
  kInvalidRequest,        // INVALID_REQUEST 400
  kAuthenticationFailed,  // AUTHENTICATION_FAILED 401
  kAuthorizationFailed,   // AUTHORIZATION_FAILED 403
  kModelNotFound,         // MODEL_NOT_FOUND 404
  kNotFound,              // NOT_FOUND 404: unknown route or resource other than a model
  kMethodNotAllowed,      // METHOD_NOT_ALLOWED 405
  kConflict,              // CONFLICT 409: e.g. a battle that already has its vote
  kPayloadTooLarge,       // PAYLOAD_TOO_LARGE 413
  kUriTooLong,            // URI_TOO_LONG 414
  kUnsupportedMediaType,  // UNSUPPORTED_MEDIA_TYPE 415
  kRateLimitExceeded,     // RATE_LIMIT_EXCEEDED 429
  kHeadersTooLarge,       // HEADERS_TOO_LARGE 431
  kScoringFailed,         // SCORING_FAILED 500
  kDatabaseError,         // DATABASE_ERROR 500
  kInternal,              // INTERNAL_ERROR 500
  kUnimplemented,         // NOT_IMPLEMENTED 501
  kUpstreamError,         // UPSTREAM_ERROR 502: an LLM provider failed
  kServiceUnavailable,    // SERVICE_UNAVAILABLE 503: a LlamaRally service is down
  kChainUnavailable,      // CHAIN_UNAVAILABLE 503: the Ethereum node is unreachable
  kApiTimeout,            // API_TIMEOUT 504: an upstream (models.dev, provider, chain) timed out
};

struct ErrorCodeInfo {
  ErrorCode code;
  std::string_view rest_code;  // as in the envelope: "MODEL_NOT_FOUND"
  int http_status;
  grpc::StatusCode grpc_code;
};

// The whole table, one row per ErrorCode, in enum order (for docs and tests).
const std::vector<ErrorCodeInfo>& error_code_table();
const ErrorCodeInfo& info(ErrorCode code);
std::optional<ErrorCode> error_code_from_rest(std::string_view rest_code);
// For a grpc::Status that carries no rally.v1.ErrorDetail (e.g. a deadline or a connection failure).
ErrorCode error_code_from_grpc(grpc::StatusCode code);

// An expected failure, carried as a value. Details are flat key/value pairs shown in the envelope's
// "details" object (field names, model ids, suggestions).
struct Error {
  ErrorCode code = ErrorCode::kInternal;
  std::string message;
  std::vector<std::pair<std::string, std::string>> details;

  Error() = default;
  Error(ErrorCode c, std::string msg, std::vector<std::pair<std::string, std::string>> det = {})
      : code(c), message(std::move(msg)), details(std::move(det)) {}
};

// A value or an Error: what domain functions return for failures the caller is expected to handle.
template <typename T>
class Result {
 public:
  Result(T value) : state_(std::move(value)) {}      // NOLINT(google-explicit-constructor)
  Result(Error error) : state_(std::move(error)) {}  // NOLINT(google-explicit-constructor)

  bool ok() const { return state_.index() == 0; }
  explicit operator bool() const { return ok(); }
  T& value() & { return std::get<0>(state_); }
  const T& value() const& { return std::get<0>(state_); }
  T&& value() && { return std::get<0>(std::move(state_)); }
  const Error& error() const { return std::get<1>(state_); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

 private:
  std::variant<T, Error> state_;
};

}  // namespace rally::common
