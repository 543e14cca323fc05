// Reading fields of provider JSON leniently and safely, and the JSON steps both codecs take to read a whole
// response or an error body, for the codecs' .cc files only (Boost.JSON stays out of the public headers).
// A codec takes the whole namespace (`using namespace json_fields;`), `json` included.
#pragma once

#include <algorithm>
#include <boost/json.hpp>
#include <cmath>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>

#include "services/llm-proxy/http/http_client.h"
#include "services/llm-proxy/provider/provider_wire.h"

namespace rally::llm_proxy::json_fields {

namespace json = boost::json;

// The string at `key`, nullopt when absent, null or not a string.
inline std::optional<std::string_view> string_at(const json::object& object, std::string_view key) {
  const json::value* value = object.if_contains(key);
  if (value == nullptr || !value->is_string()) return std::nullopt;
  return std::string_view(value->get_string());
}

// The object at `key`, nullptr when absent or not an object.
inline const json::object* object_at(const json::object& object, std::string_view key) {
  const json::value* value = object.if_contains(key);
  return value == nullptr ? nullptr : value->if_object();
}

// A token count: a non-negative integer (also written as 12.0), clamped to 32 bits; nullopt otherwise.
inline std::optional<std::uint32_t> token_count_at(const json::object& object, std::string_view key) {
  const json::value* value = object.if_contains(key);
  if (value == nullptr) return std::nullopt;
  constexpr auto kMax = std::numeric_limits<std::uint32_t>::max();
  if (const auto* i = value->if_int64()) {
    if (*i < 0) return std::nullopt;
    return static_cast<std::uint32_t>(std::min<std::int64_t>(*i, kMax));
  }
  if (const auto* u = value->if_uint64())
    return static_cast<std::uint32_t>(std::min<std::uint64_t>(*u, kMax));
  if (const auto* d = value->if_double()) {
    if (!std::isfinite(*d) || *d < 0 || std::floor(*d) != *d) return std::nullopt;
    return *d >= kMax ? kMax : static_cast<std::uint32_t>(*d);
  }
  return std::nullopt;
}

// Parses `text` as JSON; nullopt (with the reason in `error`) when it is not.
inline std::optional<json::value> parse(std::string_view text, std::string& error) {
  boost::system::error_code ec;
  json::value value = json::parse(text, ec);
  if (ec) {
    error = ec.message();
    return std::nullopt;
  }
  return value;
}

// A finite number for a sampling parameter; NaN or infinity would serialize as invalid JSON.
inline bool is_sendable(const std::optional<double>& value) {
  return value.has_value() && std::isfinite(*value);
}

// A whole (HTTP 2xx) response body: `read(object)` when it is a JSON object, else a kProtocolError.
template <typename Read>
AnswerOrFailure read_response_object(std::string_view body, Read read) {
  std::string parse_error;
  const auto value = parse(body, parse_error);
  if (!value) return protocol_failure("the response body is not JSON: " + parse_error);
  const json::object* object = value->if_object();
  if (object == nullptr) return protocol_failure("the response body is not a JSON object");
  return read(*object);
}

// The message of the {"error": {"message": ...}} body both APIs send: nullopt when `body` has no "error"
// object, empty when that object has no message.
inline std::optional<std::string_view> error_object_message(const json::object& body) {
  const json::object* error = object_at(body, "error");
  if (error == nullptr) return std::nullopt;
  return string_at(*error, "message").value_or("");
}

// The failure for an HTTP error status (status_failure), with the message `message_of(object)` reads from
// the body when the body is a JSON object.
template <typename MessageOf>
ProviderFailure error_status_failure(int status, std::string_view body, const HttpHeaders& headers,
                                     MessageOf message_of) {
  std::string message;
  std::string ignored;
  if (const auto value = parse(body, ignored); value && value->is_object()) {
    message = message_of(value->get_object());
  }
  return status_failure(status, message, body, headers);
}

}  // namespace rally::llm_proxy::json_fields
