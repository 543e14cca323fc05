#include "gateway/http/method.h"

#include <array>
#include <utility>

namespace rally::gateway::http {
namespace {

constexpr std::array<std::pair<Method, std::string_view>, 7> kMethodNames{{
    {Method::kGet, "GET"},
    {Method::kHead, "HEAD"},
    {Method::kPost, "POST"},
    {Method::kPut, "PUT"},
    {Method::kPatch, "PATCH"},
    {Method::kDelete, "DELETE"},
    {Method::kOptions, "OPTIONS"},
}};

}  // namespace

std::string_view to_string(Method method) {
  for (const auto& [candidate, name] : kMethodNames) {
    if (candidate == method) {
      return name;
    }
  }
  return "UNKNOWN";
}

std::optional<Method> parse_method(std::string_view text) {
  for (const auto& [method, name] : kMethodNames) {
    if (name == text) {
      return method;
    }
  }
  return std::nullopt;
}

}  // namespace rally::gateway::http
