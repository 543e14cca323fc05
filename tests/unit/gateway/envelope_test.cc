#include "gateway/http/envelope.h"

#include <google/protobuf/struct.pb.h>
#include <grpcpp/support/status.h>

#include <boost/json.hpp>
#include <catch2/catch.hpp>
#include <chrono>
#include <cmath>
#include <regex>
#include <string>

#include "rally/v1/common.pb.h"
#include "services/common/errors.h"
#include "services/common/request_id.h"

namespace rally::gateway::http {
namespace {

using common::Error;
using common::ErrorCode;

// 2026-11-22T10:00:00Z
constexpr std::chrono::system_clock::time_point kNoon{std::chrono::seconds(1795341600)};

boost::json::object parse_object(const std::string& body) {
  return boost::json::parse(body).as_object();
}

TEST_CASE("the envelope has exactly the documented shape", "[envelope]") {
  const Error error(ErrorCode::kNotFound, "No route for GET /x", {{"method", "GET"}, {"path", "/x"}});
  CHECK(render_error_envelope(error, "req_abc", kNoon) ==
        R"({"success":false,"error":{"code":"NOT_FOUND","message":"No route for GET /x",)"
        R"("details":{"method":"GET","path":"/x"}},)"
        R"("metadata":{"request_id":"req_abc","timestamp":"2026-11-22T10:00:00Z"}})");
}

TEST_CASE("details is an empty object when the error has none", "[envelope]") {
  const Error error(ErrorCode::kInternal, "Internal error");
  CHECK(render_error_envelope(error, "req_1", kNoon) ==
        R"({"success":false,"error":{"code":"INTERNAL_ERROR","message":"Internal error","details":{}},)"
        R"("metadata":{"request_id":"req_1","timestamp":"2026-11-22T10:00:00Z"}})");
}

TEST_CASE("messages and details are escaped as JSON", "[envelope]") {
  const Error error(ErrorCode::kInvalidRequest, "bad \"field\"\nline 2 \\ \x01",
                    {{"quote\"key", "tab\there"}});
  const auto envelope = parse_object(render_error_envelope(error, "req_1", kNoon));
  const auto& body = envelope.at("error").as_object();
  CHECK(body.at("message").as_string() == "bad \"field\"\nline 2 \\ \x01");
  CHECK(body.at("details").as_object().at("quote\"key").as_string() == "tab\there");
}

TEST_CASE("every error code gets the status and REST code of the error table", "[envelope]") {
  for (const auto& row : common::error_code_table()) {
    CAPTURE(row.rest_code);
    const Response response = error_response(Error(row.code, "message"), "req_1");
    CHECK(response.status == row.http_status);
    CHECK(response.headers.get("Content-Type") == "application/json");
    const auto envelope = parse_object(response.body);
    CHECK(envelope.at("success").as_bool() == false);
    CHECK(envelope.at("error").at("code").as_string() == row.rest_code);
    CHECK(envelope.at("metadata").at("request_id").as_string() == "req_1");
    CHECK(std::regex_match(std::string(envelope.at("metadata").at("timestamp").as_string()),
                           std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ)")));
  }
  CHECK(error_response(Error(ErrorCode::kPayloadTooLarge, "too big"), "r").status == 413);
  CHECK(error_response(Error(ErrorCode::kMethodNotAllowed, "no"), "r").status == 405);
  CHECK(error_response(Error(ErrorCode::kModelNotFound, "no"), "r").status == 404);
}

TEST_CASE("a gRPC status carrying an ErrorDetail keeps the service's code, message and details",
          "[envelope]") {
  v1::ErrorDetail detail;
  detail.set_code("MODEL_NOT_FOUND");
  detail.set_message("Model with ID 'invalid-model' not found");
  (*detail.mutable_details()->mutable_fields())["model_id"].set_string_value("invalid-model");
  (*detail.mutable_details()->mutable_fields())["suggestion"].set_string_value("Check the model ID");
  const grpc::Status status(grpc::StatusCode::NOT_FOUND, "not found", detail.SerializeAsString());

  const Response response = error_response(status, "req_upstream");
  CHECK(response.status == 404);
  const auto envelope = parse_object(response.body);
  const auto& error = envelope.at("error").as_object();
  CHECK(error.at("code").as_string() == "MODEL_NOT_FOUND");
  CHECK(error.at("message").as_string() == "Model with ID 'invalid-model' not found");
  CHECK(error.at("details").at("model_id").as_string() == "invalid-model");
  CHECK(error.at("details").at("suggestion").as_string() == "Check the model ID");
  CHECK(envelope.at("metadata").at("request_id").as_string() == "req_upstream");
}

TEST_CASE("a gRPC status without an ErrorDetail maps through the table", "[envelope]") {
  const auto code_of = [](const Response& response) {
    return std::string(parse_object(response.body).at("error").at("code").as_string());
  };

  const Response unavailable =
      error_response(grpc::Status(grpc::StatusCode::UNAVAILABLE, "connect failed"), "r");
  CHECK(unavailable.status == 503);
  CHECK(code_of(unavailable) == "SERVICE_UNAVAILABLE");

  const Response deadline = error_response(grpc::Status(grpc::StatusCode::DEADLINE_EXCEEDED, "slow"), "r");
  CHECK(deadline.status == 504);
  CHECK(code_of(deadline) == "API_TIMEOUT");

  const ErrorCode invalid = common::error_code_from_grpc(grpc::StatusCode::INVALID_ARGUMENT);
  const Response bad = error_response(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "bad"), "r");
  CHECK(bad.status == common::info(invalid).http_status);
  CHECK(code_of(bad) == common::info(invalid).rest_code);
}

TEST_CASE("the success envelope wraps the data with the request id, time and processing time", "[envelope]") {
  CHECK(
      render_success_envelope(R"({"id":"tok_1"})", "req_abc", kNoon, 1.23456) ==
      R"({"success":true,"data":{"id":"tok_1"},)"
      R"("metadata":{"request_id":"req_abc","timestamp":"2026-11-22T10:00:00Z","processing_time_ms":1.235}})");
  CHECK(parse_object(render_success_envelope("[]", "r", kNoon, 0)).at("data").as_array().empty());
  CHECK(render_success_envelope("1", "r", kNoon, 2).ends_with(R"("processing_time_ms":2}})"));
  CHECK(render_success_envelope("1", "r", kNoon, std::nan("")).ends_with(R"("processing_time_ms":0}})"));
  CHECK(parse_object(render_success_envelope("1", "quote\"id", kNoon, 1)).at("metadata").at("request_id") ==
        "quote\"id");

  const auto started = std::chrono::steady_clock::now() - std::chrono::milliseconds(5);
  const Response created = success_response(R"({"a":1})", "req_1", started, 201);
  CHECK(created.status == 201);
  CHECK(created.headers.get("Content-Type") == "application/json");
  const auto envelope = parse_object(created.body);
  CHECK(envelope.at("success").as_bool());
  CHECK(envelope.at("data").at("a").as_int64() == 1);
  CHECK(envelope.at("metadata").at("request_id").as_string() == "req_1");
  CHECK(envelope.at("metadata").at("processing_time_ms").to_number<double>() >= 5);
  CHECK(success_response("null", "r", std::chrono::steady_clock::now()).status == 200);
}

TEST_CASE("extra metadata members follow processing_time_ms inside metadata", "[envelope]") {
  CHECK(render_success_envelope(R"({"rankings":[]})", "req_abc", kNoon, 1.5,
                                R"("total_models":25,"filtered_models":10)") ==
        R"({"success":true,"data":{"rankings":[]},)"
        R"("metadata":{"request_id":"req_abc","timestamp":"2026-11-22T10:00:00Z","processing_time_ms":1.5,)"
        R"("total_models":25,"filtered_models":10}})");
  // Empty extra metadata renders exactly as without it.
  CHECK(render_success_envelope("1", "r", kNoon, 2, "") == render_success_envelope("1", "r", kNoon, 2));

  const Response response =
      success_response("{}", "req_1", std::chrono::steady_clock::now(), 200, R"("total_models":3)");
  CHECK(response.status == 200);
  const auto metadata = parse_object(response.body).at("metadata").as_object();
  CHECK(metadata.at("total_models").as_int64() == 3);
  CHECK(metadata.at("request_id").as_string() == "req_1");
  CHECK(metadata.contains("processing_time_ms"));
}

TEST_CASE("timestamps are UTC whole seconds", "[envelope]") {
  CHECK(format_timestamp(kNoon) == "2026-11-22T10:00:00Z");
  CHECK(format_timestamp(kNoon + std::chrono::milliseconds(999)) == "2026-11-22T10:00:00Z");
  CHECK(format_timestamp(std::chrono::system_clock::time_point{}) == "1970-01-01T00:00:00Z");
}

}  // namespace
}  // namespace rally::gateway::http
