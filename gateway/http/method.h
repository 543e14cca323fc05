// The request methods the gateway routes. A request with any other method is answered 501 before routing,
// so handlers only ever see one of these.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace rally::gateway::http {

enum class Method : std::uint8_t { kGet, kHead, kPost, kPut, kPatch, kDelete, kOptions };

// "GET", "POST", ...
std::string_view to_string(Method method);
// Exact match: methods are case-sensitive (RFC 9110 section 9.1), so "get" is not GET.
std::optional<Method> parse_method(std::string_view text);

}  // namespace rally::gateway::http
