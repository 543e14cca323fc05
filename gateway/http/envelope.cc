#include "gateway/http/envelope.h"

#include <grpcpp/support/status.h>

#include <boost/json.hpp>
#include <charconv>
#include <cmath>
#include <ctime>

#include "services/common/grpc_status.h"

namespace rally::gateway::http {

std::string render_error_envelope(const common::Error& error, std::string_view request_id,
                                  std::chrono::system_clock::time_point now) {
  boost::json::object details;
  for (const auto& [key, value] : error.details) {
    details[key] = value;
  }

  boost::json::object envelope;
  envelope["success"] = false;
  envelope["error"] = boost::json::object{
      {"code", common::info(error.code).rest_code},
      {"message", error.message},
      {"details", std::move(details)},
  };
  envelope["metadata"] = boost::json::object{
      {"request_id", request_id},
      {"timestamp", format_timestamp(now)},
  };
  return boost::json::serialize(envelope);
}

Response error_response(const common::Error& error, std::string_view request_id) {
  return Response::json(common::info(error.code).http_status,
                        render_error_envelope(error, request_id, std::chrono::system_clock::now()));
}

Response error_response(const grpc::Status& status, std::string_view request_id) {
  return error_response(common::from_grpc_status(status), request_id);
}

std::string render_success_envelope(std::string_view data_json, std::string_view request_id,
                                    std::chrono::system_clock::time_point now, double processing_time_ms,
                                    std::string_view extra_metadata) {
  // Built as text: Boost.JSON writes doubles in exponent form ("1.25E0"), which is valid but reads badly.
  // JSON has no NaN or infinity; microsecond precision is plenty.
  const double rounded = std::isfinite(processing_time_ms) && processing_time_ms > 0
                             ? std::round(processing_time_ms * 1000) / 1000
                             : 0.0;
  char milliseconds[32];
  const auto written = std::to_chars(milliseconds, milliseconds + sizeof milliseconds, rounded);
  std::string envelope = R"({"success":true,"data":)";
  envelope += data_json;
  envelope += R"(,"metadata":{"request_id":)";
  envelope += boost::json::serialize(boost::json::value(boost::json::string_view(request_id)));
  envelope += R"(,"timestamp":")";
  envelope += format_timestamp(now);
  envelope += R"(","processing_time_ms":)";
  envelope.append(milliseconds, written.ptr);
  if (!extra_metadata.empty()) {
    envelope += ',';
    envelope += extra_metadata;
  }
  envelope += "}}";
  return envelope;
}

Response success_response(std::string_view data_json, std::string_view request_id,
                          std::chrono::steady_clock::time_point started, int status,
                          std::string_view extra_metadata) {
  const std::chrono::duration<double, std::milli> elapsed = std::chrono::steady_clock::now() - started;
  return Response::json(status,
                        render_success_envelope(data_json, request_id, std::chrono::system_clock::now(),
                                                elapsed.count(), extra_metadata));
}

std::string format_timestamp(std::chrono::system_clock::time_point time) {
  const std::time_t seconds =
      std::chrono::system_clock::to_time_t(std::chrono::floor<std::chrono::seconds>(time));
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char text[sizeof "2026-11-22T10:00:00Z"];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &utc);
  return text;
}

}  // namespace rally::gateway::http
