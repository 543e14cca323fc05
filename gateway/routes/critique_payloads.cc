#include "gateway/routes/critique_payloads.h"

#include <boost/json.hpp>

#include "gateway/http/json_body.h"
#include "services/common/json_text.h"

namespace rally::gateway::routes {
namespace {

namespace json = boost::json;
using common::Error;
using common::ErrorCode;

bool is_blank(std::string_view text) {
  return text.find_first_not_of(" \t\r\n") == std::string_view::npos;
}

double milliseconds_of(const google::protobuf::Duration& duration) {
  return static_cast<double>(duration.seconds()) * 1000.0 + static_cast<double>(duration.nanos()) / 1e6;
}

}  // namespace

common::Result<v1::CriticizeRequest> parse_criticize_body(std::string_view body) {
  common::Result<json::value> result = http::parse_json_body(body);
  if (!result.ok()) return result.error();
  const json::object* object = result.value().if_object();
  if (object == nullptr) return Error(ErrorCode::kInvalidRequest, "The request body must be a JSON object");
  const json::value* prompt = object->if_contains("prompt");
  if (prompt == nullptr || !prompt->is_string() || is_blank(prompt->get_string())) {
    return Error(ErrorCode::kInvalidRequest, "Prompt is required", {{"field", "prompt"}});
  }
  v1::CriticizeRequest request;
  request.set_prompt(std::string(prompt->get_string()));
  return request;
}

std::string criticize_response_body(const v1::CriticizeResponse& response) {
  return common::json_text(json::object{
      {"score", response.score()},
      {"description", response.description()},
      {"tx_hash", response.tx_hash()},
      {"run_id", response.run_id()},
      {"block_number", response.block_number()},
      {"latency_ms", milliseconds_of(response.latency())},
      {"chain_ms", milliseconds_of(response.chain_time())},
      {"simulated", response.simulated()},
  });
}

}  // namespace rally::gateway::routes
