#include "services/common/errors.h"

#include <catch2/catch.hpp>
#include <set>
#include <string>

namespace rally::common {
namespace {

using grpc::StatusCode;

TEST_CASE("the error table has one row per ErrorCode, in enum order", "[errors]") {
  const auto& table = error_code_table();
  REQUIRE(table.size() == static_cast<std::size_t>(ErrorCode::kApiTimeout) + 1);
  for (std::size_t i = 0; i < table.size(); ++i) {
    INFO("row " << i << " " << table[i].rest_code);
    CHECK(static_cast<std::size_t>(table[i].code) == i);
    CHECK(&info(table[i].code) == &info(static_cast<ErrorCode>(i)));
  }
}

TEST_CASE("REST codes are unique, upper snake case, and map back to their ErrorCode", "[errors]") {
  std::set<std::string_view> seen;
  for (const ErrorCodeInfo& row : error_code_table()) {
    INFO(row.rest_code);
    CHECK(seen.insert(row.rest_code).second);
    CHECK(row.rest_code.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZ_") == std::string_view::npos);
    REQUIRE(error_code_from_rest(row.rest_code).has_value());
    CHECK(*error_code_from_rest(row.rest_code) == row.code);
    CHECK(row.grpc_code != StatusCode::OK);
  }
  CHECK_FALSE(error_code_from_rest("model_not_found").has_value());
  CHECK_FALSE(error_code_from_rest("").has_value());
  CHECK_FALSE(error_code_from_rest("TEAPOT").has_value());
}

TEST_CASE("REST codes and HTTP statuses are the documented ones", "[errors]") {
  struct Expected {
    ErrorCode code;
    std::string_view rest_code;
    int http_status;
  };
  const Expected expected[] = {
      {ErrorCode::kInvalidRequest, "INVALID_REQUEST", 400},
      {ErrorCode::kAuthenticationFailed, "AUTHENTICATION_FAILED", 401},
      {ErrorCode::kAuthorizationFailed, "AUTHORIZATION_FAILED", 403},
      {ErrorCode::kModelNotFound, "MODEL_NOT_FOUND", 404},
      {ErrorCode::kNotFound, "NOT_FOUND", 404},
      {ErrorCode::kMethodNotAllowed, "METHOD_NOT_ALLOWED", 405},
      {ErrorCode::kConflict, "CONFLICT", 409},
      {ErrorCode::kPayloadTooLarge, "PAYLOAD_TOO_LARGE", 413},
      {ErrorCode::kUriTooLong, "URI_TOO_LONG", 414},
      {ErrorCode::kUnsupportedMediaType, "UNSUPPORTED_MEDIA_TYPE", 415},
      {ErrorCode::kRateLimitExceeded, "RATE_LIMIT_EXCEEDED", 429},
      {ErrorCode::kHeadersTooLarge, "HEADERS_TOO_LARGE", 431},
      {ErrorCode::kScoringFailed, "SCORING_FAILED", 500},
      {ErrorCode::kDatabaseError, "DATABASE_ERROR", 500},
      {ErrorCode::kInternal, "INTERNAL_ERROR", 500},
      {ErrorCode::kUnimplemented, "NOT_IMPLEMENTED", 501},
      {ErrorCode::kUpstreamError, "UPSTREAM_ERROR", 502},
      {ErrorCode::kServiceUnavailable, "SERVICE_UNAVAILABLE", 503},
      {ErrorCode::kChainUnavailable, "CHAIN_UNAVAILABLE", 503},
      {ErrorCode::kApiTimeout, "API_TIMEOUT", 504},
  };
  REQUIRE(std::size(expected) == error_code_table().size());
  for (const Expected& e : expected) {
    INFO(e.rest_code);
    CHECK(info(e.code).rest_code == e.rest_code);
    CHECK(info(e.code).http_status == e.http_status);
  }
}

TEST_CASE("each ErrorCode crosses gRPC with its chosen status code", "[errors]") {
  CHECK(info(ErrorCode::kInvalidRequest).grpc_code == StatusCode::INVALID_ARGUMENT);
  CHECK(info(ErrorCode::kAuthenticationFailed).grpc_code == StatusCode::UNAUTHENTICATED);
  CHECK(info(ErrorCode::kAuthorizationFailed).grpc_code == StatusCode::PERMISSION_DENIED);
  CHECK(info(ErrorCode::kModelNotFound).grpc_code == StatusCode::NOT_FOUND);
  CHECK(info(ErrorCode::kNotFound).grpc_code == StatusCode::NOT_FOUND);
  CHECK(info(ErrorCode::kConflict).grpc_code == StatusCode::ALREADY_EXISTS);
  CHECK(info(ErrorCode::kRateLimitExceeded).grpc_code == StatusCode::RESOURCE_EXHAUSTED);
  CHECK(info(ErrorCode::kScoringFailed).grpc_code == StatusCode::INTERNAL);
  CHECK(info(ErrorCode::kDatabaseError).grpc_code == StatusCode::UNAVAILABLE);
  CHECK(info(ErrorCode::kInternal).grpc_code == StatusCode::INTERNAL);
  CHECK(info(ErrorCode::kUnimplemented).grpc_code == StatusCode::UNIMPLEMENTED);
  CHECK(info(ErrorCode::kUpstreamError).grpc_code == StatusCode::INTERNAL);
  CHECK(info(ErrorCode::kServiceUnavailable).grpc_code == StatusCode::UNAVAILABLE);
  CHECK(info(ErrorCode::kChainUnavailable).grpc_code == StatusCode::UNAVAILABLE);
  CHECK(info(ErrorCode::kApiTimeout).grpc_code == StatusCode::DEADLINE_EXCEEDED);
  // HTTP-layer errors never cross gRPC; if one does, it is the caller's request that is unacceptable.
  for (const ErrorCode http_only :
       {ErrorCode::kMethodNotAllowed, ErrorCode::kPayloadTooLarge, ErrorCode::kUriTooLong,
        ErrorCode::kUnsupportedMediaType, ErrorCode::kHeadersTooLarge}) {
    CHECK(info(http_only).grpc_code == StatusCode::INVALID_ARGUMENT);
  }
}

TEST_CASE("a bare gRPC status code maps to the error a client should see", "[errors]") {
  CHECK(error_code_from_grpc(StatusCode::DEADLINE_EXCEEDED) == ErrorCode::kApiTimeout);
  CHECK(error_code_from_grpc(StatusCode::UNAVAILABLE) == ErrorCode::kServiceUnavailable);
  CHECK(error_code_from_grpc(StatusCode::NOT_FOUND) == ErrorCode::kNotFound);
  CHECK(error_code_from_grpc(StatusCode::INVALID_ARGUMENT) == ErrorCode::kInvalidRequest);
  CHECK(error_code_from_grpc(StatusCode::OUT_OF_RANGE) == ErrorCode::kInvalidRequest);
  CHECK(error_code_from_grpc(StatusCode::FAILED_PRECONDITION) == ErrorCode::kInvalidRequest);
  CHECK(error_code_from_grpc(StatusCode::UNAUTHENTICATED) == ErrorCode::kAuthenticationFailed);
  CHECK(error_code_from_grpc(StatusCode::PERMISSION_DENIED) == ErrorCode::kAuthorizationFailed);
  CHECK(error_code_from_grpc(StatusCode::RESOURCE_EXHAUSTED) == ErrorCode::kRateLimitExceeded);
  CHECK(error_code_from_grpc(StatusCode::ALREADY_EXISTS) == ErrorCode::kConflict);
  CHECK(error_code_from_grpc(StatusCode::UNIMPLEMENTED) == ErrorCode::kUnimplemented);
  for (const StatusCode other : {StatusCode::CANCELLED, StatusCode::UNKNOWN, StatusCode::ABORTED,
                                 StatusCode::INTERNAL, StatusCode::DATA_LOSS}) {
    CHECK(error_code_from_grpc(other) == ErrorCode::kInternal);
  }
}

TEST_CASE("codes whose gRPC status is unambiguous survive a bare status round trip", "[errors]") {
  // Only these gRPC codes are used by exactly one ErrorCode, and the fallback picks that one.
  for (const ErrorCode code :
       {ErrorCode::kInvalidRequest, ErrorCode::kAuthenticationFailed, ErrorCode::kAuthorizationFailed,
        ErrorCode::kConflict, ErrorCode::kRateLimitExceeded, ErrorCode::kUnimplemented,
        ErrorCode::kApiTimeout}) {
    INFO(info(code).rest_code);
    CHECK(error_code_from_grpc(info(code).grpc_code) == code);
  }
}

TEST_CASE("Result holds either a value or an error", "[errors]") {
  const Result<int> good = 42;
  REQUIRE(good.ok());
  CHECK(good.value() == 42);

  const Result<int> bad = Error(ErrorCode::kModelNotFound, "no such model", {{"model_id", "x"}});
  REQUIRE_FALSE(bad);
  CHECK(bad.error().code == ErrorCode::kModelNotFound);
  CHECK(bad.error().message == "no such model");
  CHECK(bad.error().details == std::vector<std::pair<std::string, std::string>>{{"model_id", "x"}});
}

}  // namespace
}  // namespace rally::common
