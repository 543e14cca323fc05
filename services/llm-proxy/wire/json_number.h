// Reading JSON integers the way the OpenAI and Anthropic APIs accept them (shared by rally_openai_wire and
// the LLM simulator's Anthropic and fault parsers).
#pragma once

#include <boost/json/value.hpp>
#include <cstdint>
#include <limits>
#include <optional>

namespace rally::openai_wire {

// The value as a signed integer when it is one (uint64 values above INT64_MAX saturate, so range checks
// still reject them); nullopt for doubles, strings and everything else.
inline std::optional<std::int64_t> as_integer(const boost::json::value& value) {
  if (value.is_int64()) return value.get_int64();
  if (value.is_uint64()) {
    const std::uint64_t u = value.get_uint64();
    constexpr auto kMax = std::numeric_limits<std::int64_t>::max();
    return u > static_cast<std::uint64_t>(kMax) ? kMax : static_cast<std::int64_t>(u);
  }
  return std::nullopt;
}

}  // namespace rally::openai_wire
