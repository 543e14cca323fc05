#include "gateway/http/request.h"

#include "gateway/http/percent_encoding.h"

namespace rally::gateway::http {

Request::Request(Method method, std::string target, Headers headers, std::string body)
    : method_(method), target_(std::move(target)), headers_(std::move(headers)), body_(std::move(body)) {}

std::string_view Request::path() const {
  const std::string_view target = target_;
  return target.substr(0, target.find('?'));
}

std::string_view Request::query() const {
  const std::string_view target = target_;
  const auto mark = target.find('?');
  return mark == std::string_view::npos ? std::string_view{} : target.substr(mark + 1);
}

std::optional<std::string> Request::query_param(std::string_view name) const {
  std::string_view rest = query();
  while (!rest.empty()) {
    const auto amp = rest.find('&');
    const std::string_view pair = rest.substr(0, amp);
    rest = amp == std::string_view::npos ? std::string_view{} : rest.substr(amp + 1);

    const auto eq = pair.find('=');
    const auto key = percent_decode(pair.substr(0, eq), /*plus_is_space=*/true);
    if (!key || *key != name) {
      continue;
    }
    if (eq == std::string_view::npos) {
      return std::string{};  // "?flag" reads as present and empty
    }
    return percent_decode(pair.substr(eq + 1), /*plus_is_space=*/true);
  }
  return std::nullopt;
}

std::optional<std::string_view> Request::path_param(std::string_view name) const {
  for (const auto& [param, value] : path_params_) {
    if (param == name) {
      return std::string_view(value);
    }
  }
  return std::nullopt;
}

void Request::set_route(std::string route, PathParams params) {
  route_ = std::move(route);
  path_params_ = std::move(params);
}

std::string_view Request::client_host() const {
  const std::string_view address = client_address_;
  const std::size_t colon = address.rfind(':');
  if (colon == std::string_view::npos) return address;
  const std::size_t bracket = address.rfind(']');
  if (bracket != std::string_view::npos && bracket > colon) return address;             // IPv6 without a port
  if (bracket == std::string_view::npos && address.find(':') != colon) return address;  // bare IPv6
  return address.substr(0, colon);
}

}  // namespace rally::gateway::http
