#include "services/common/grpc_status.h"

#include <google/protobuf/struct.pb.h>

#include <catch2/catch.hpp>
#include <stdexcept>

#include "rally/v1/common.pb.h"

namespace rally::common {
namespace {

using Details = std::vector<std::pair<std::string, std::string>>;

TEST_CASE("to_grpc_status uses the table's gRPC code and attaches an ErrorDetail", "[grpc_status]") {
  const Error error(ErrorCode::kModelNotFound, "model \"gpt-9\" is not in the catalogue",
                    {{"model_id", "gpt-9"}, {"suggestion", "gpt-4o"}});
  const grpc::Status status = to_grpc_status(error);

  CHECK(status.error_code() == grpc::StatusCode::NOT_FOUND);
  CHECK(status.error_message() == error.message);

  rally::v1::ErrorDetail detail;
  REQUIRE(detail.ParseFromString(status.error_details()));
  CHECK(detail.code() == "MODEL_NOT_FOUND");
  CHECK(detail.message() == error.message);
  REQUIRE(detail.details().fields().size() == 2);
  CHECK(detail.details().fields().at("model_id").string_value() == "gpt-9");
  CHECK(detail.details().fields().at("suggestion").string_value() == "gpt-4o");
}

TEST_CASE("every ErrorCode survives Error -> grpc::Status -> Error", "[grpc_status]") {
  for (const ErrorCodeInfo& row : error_code_table()) {
    INFO(row.rest_code);
    const Error original(row.code, "what went wrong: \"quoted\", \xc3\xa9",
                         {{"field", "prompt"}, {"limit", "4096"}});
    const Error back = from_grpc_status(to_grpc_status(original));
    CHECK(back.code == original.code);
    CHECK(back.message == original.message);
    CHECK(back.details == original.details);
  }
}

TEST_CASE("the REST code survives even where gRPC codes are shared", "[grpc_status]") {
  // DATABASE_ERROR and SERVICE_UNAVAILABLE both travel as UNAVAILABLE; only the ErrorDetail tells them apart.
  const grpc::Status status = to_grpc_status(Error(ErrorCode::kDatabaseError, "pool exhausted"));
  CHECK(status.error_code() == grpc::StatusCode::UNAVAILABLE);
  CHECK(from_grpc_status(status).code == ErrorCode::kDatabaseError);
}

TEST_CASE("text that is not UTF-8 is repaired rather than costing the receiver the ErrorDetail",
          "[grpc_status]") {
  // proto3 would refuse to parse the detail, and the REST code would be lost with it.
  const Error error(ErrorCode::kUpstreamError, "provider said \xff\xfe", {{"body", "ab\xc3"}});
  const Error back = from_grpc_status(to_grpc_status(error));
  CHECK(back.code == ErrorCode::kUpstreamError);
  CHECK(back.message == "provider said \xef\xbf\xbd\xef\xbf\xbd");
  CHECK(back.details == Details{{"body", "ab\xef\xbf\xbd"}});
}

TEST_CASE("details come back sorted by key, with no details at all kept empty", "[grpc_status]") {
  const Error with_details(ErrorCode::kInvalidRequest, "bad", {{"zeta", "1"}, {"alpha", "2"}});
  CHECK(from_grpc_status(to_grpc_status(with_details)).details == Details{{"alpha", "2"}, {"zeta", "1"}});

  const Error without(ErrorCode::kInternal, "");
  const Error back = from_grpc_status(to_grpc_status(without));
  CHECK(back.code == ErrorCode::kInternal);
  CHECK(back.message.empty());
  CHECK(back.details.empty());
}

TEST_CASE("a status without ErrorDetail is classified by its gRPC code and keeps its message",
          "[grpc_status]") {
  const Error timeout =
      from_grpc_status(grpc::Status(grpc::StatusCode::DEADLINE_EXCEEDED, "Deadline Exceeded"));
  CHECK(timeout.code == ErrorCode::kApiTimeout);
  CHECK(timeout.message == "Deadline Exceeded");
  CHECK(timeout.details.empty());

  CHECK(from_grpc_status(grpc::Status(grpc::StatusCode::UNAVAILABLE, "failed to connect")).code ==
        ErrorCode::kServiceUnavailable);
  CHECK(from_grpc_status(grpc::Status(grpc::StatusCode::NOT_FOUND, "")).code == ErrorCode::kNotFound);
  CHECK(from_grpc_status(grpc::Status(grpc::StatusCode::CANCELLED, "")).code == ErrorCode::kInternal);
}

TEST_CASE("unparseable error details fall back to the table", "[grpc_status]") {
  // 0x0a declares field 1 as length-delimited with a length (0x7f) far beyond the two bytes that follow.
  const grpc::Status status(grpc::StatusCode::RESOURCE_EXHAUSTED, "slow down",
                            std::string("\x0a\x7f\x41\x42", 4));
  const Error error = from_grpc_status(status);
  CHECK(error.code == ErrorCode::kRateLimitExceeded);
  CHECK(error.message == "slow down");
  CHECK(error.details.empty());
}

TEST_CASE("an unknown REST code keeps the sender's message and details, classified by gRPC code",
          "[grpc_status]") {
  rally::v1::ErrorDetail detail;
  detail.set_code("QUOTA_EXHAUSTED_V2");
  detail.set_message("monthly quota used up");
  (*detail.mutable_details()->mutable_fields())["plan"].set_string_value("free");
  // Non-string values from a foreign sender are kept as their JSON text.
  (*detail.mutable_details()->mutable_fields())["used"].set_number_value(1000);
  (*detail.mutable_details()->mutable_fields())["hard"].set_bool_value(true);

  const grpc::Status status(grpc::StatusCode::RESOURCE_EXHAUSTED, "transport text",
                            detail.SerializeAsString());
  const Error error = from_grpc_status(status);
  CHECK(error.code == ErrorCode::kRateLimitExceeded);
  CHECK(error.message == "monthly quota used up");
  CHECK(error.details == Details{{"hard", "true"}, {"plan", "free"}, {"used", "1000"}});
}

TEST_CASE("from_grpc_status refuses an OK status", "[grpc_status]") {
  CHECK_THROWS_AS(from_grpc_status(grpc::Status::OK), std::invalid_argument);
}

}  // namespace
}  // namespace rally::common
