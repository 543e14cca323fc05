#include "services/common/grpc_status.h"

#include <google/protobuf/struct.pb.h>
#include <google/protobuf/util/json_util.h>

#include <algorithm>
#include <stdexcept>
#include <string_view>

#include "rally/v1/common.pb.h"
#include "services/common/utf8.h"

namespace rally::common {
namespace {

// Our services only ever send string values; anything else (from a future or foreign sender) is kept as
// its JSON text rather than dropped.
std::string detail_value_text(const google::protobuf::Value& value) {
  if (value.kind_case() == google::protobuf::Value::kStringValue) {
    return value.string_value();
  }
  std::string json;
  if (!google::protobuf::util::MessageToJsonString(value, &json).ok()) {
    return {};
  }
  return json;
}

}  // namespace

grpc::Status to_grpc_status(const Error& error) {
  const ErrorCodeInfo& row = info(error.code);
  rally::v1::ErrorDetail detail;
  detail.set_code(std::string(row.rest_code));
  // proto3 refuses to parse a string field that is not UTF-8, which would silently cost the receiver the
  // whole ErrorDetail (and with it the REST code); messages can quote upstream bytes, so repair them first.
  detail.set_message(repair_utf8(error.message));
  auto& fields = *detail.mutable_details()->mutable_fields();
  for (const auto& [key, value] : error.details) {
    fields[repair_utf8(key)].set_string_value(repair_utf8(value));
  }
  // The status message itself is percent-encoded on the wire, so it can stay byte-exact.
  return grpc::Status(row.grpc_code, error.message, detail.SerializeAsString());
}

Error from_grpc_status(const grpc::Status& status) {
  if (status.ok()) {
    throw std::invalid_argument("from_grpc_status: an OK status carries no error");
  }

  rally::v1::ErrorDetail detail;
  if (status.error_details().empty() || !detail.ParseFromString(status.error_details())) {
    return Error(error_code_from_grpc(status.error_code()), status.error_message());
  }

  Error error;
  // A REST code this binary does not know yet (a newer service) still gets a sensible class via the
  // status code, and keeps the sender's message and details.
  error.code = error_code_from_rest(detail.code()).value_or(error_code_from_grpc(status.error_code()));
  error.message = detail.message();
  for (const auto& [key, value] : detail.details().fields()) {
    error.details.emplace_back(key, detail_value_text(value));
  }
  // Struct fields are a map with no defined order; sorting keeps the envelope (and tests) deterministic.
  std::sort(error.details.begin(), error.details.end());
  return error;
}

}  // namespace rally::common
