// Reading fields of provider JSON leniently and safely, for the codecs' .cc files only (Boost.JSON stays
// out of the public headers).
#pragma once

#include <algorithm>
#include <boost/json.hpp>
#include <cmath>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>

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

}  // namespace rally::llm_proxy::json_fields
