#include "gateway/http/router.h"

#include <algorithm>
#include <set>
#include <stdexcept>

#include "gateway/http/percent_encoding.h"
#include "services/common/utf8.h"

namespace rally::gateway::http {
namespace {

// "/a/b" -> {"a", "b"}; "/" -> {""}. The caller has checked the leading '/'.
std::vector<std::string_view> split_path(std::string_view path) {
  std::vector<std::string_view> segments;
  path.remove_prefix(1);
  while (true) {
    const auto slash = path.find('/');
    segments.push_back(path.substr(0, slash));
    if (slash == std::string_view::npos) {
      return segments;
    }
    path.remove_prefix(slash + 1);
  }
}

bool is_param_name(std::string_view name) {
  return !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
  });
}

[[noreturn]] void reject(std::string_view path_template, std::string_view problem) {
  throw std::invalid_argument("route \"" + std::string(path_template) + "\": " + std::string(problem));
}

// True when `a` is more specific than `b`, both matching the same path (so both have as many segments).
template <typename Route>
bool more_specific(const Route& a, const Route& b) {
  for (std::size_t i = 0; i < a.segments.size(); ++i) {
    if (a.segments[i].is_param != b.segments[i].is_param) {
      return !a.segments[i].is_param;
    }
  }
  return false;
}

}  // namespace

Router::Route& Router::route_for(std::string_view path_template) {
  if (path_template.empty() || path_template.front() != '/') {
    reject(path_template, "must start with '/'");
  }

  std::vector<Segment> segments;
  std::set<std::string_view> param_names;
  const auto parts = split_path(path_template);
  for (const std::string_view part : parts) {
    if (part.empty() && parts.size() > 1) {
      reject(path_template, "empty segment");
    }
    if (part.size() >= 2 && part.front() == '{' && part.back() == '}') {
      const std::string_view name = part.substr(1, part.size() - 2);
      if (!is_param_name(name)) {
        reject(path_template, "parameter names are [A-Za-z0-9_]+");
      }
      if (!param_names.insert(name).second) {
        reject(path_template, "repeated parameter name");
      }
      segments.push_back({std::string(name), true});
    } else {
      if (part.find_first_of("{}?#") != std::string_view::npos) {
        reject(path_template, "stray '{', '}', '?' or '#'");
      }
      segments.push_back({std::string(part), false});
    }
  }

  for (Route& route : routes_) {
    if (route.path_template == path_template) {
      return route;
    }
    const bool same_shape = std::equal(route.segments.begin(), route.segments.end(), segments.begin(),
                                       segments.end(), [](const Segment& a, const Segment& b) {
                                         return a.is_param == b.is_param && (a.is_param || a.text == b.text);
                                       });
    if (same_shape) {
      reject(path_template, "conflicts with \"" + route.path_template + "\"");
    }
  }
  return routes_.emplace_back(Route{std::string(path_template), std::move(segments), {}, std::nullopt, {}});
}

void Router::add(Method method, std::string_view path_template, Handler handler, edge::RoutePolicy policy) {
  if (!handler) {
    reject(path_template, "empty handler");
  }
  Route& route = route_for(path_template);
  if (route.handlers.contains(method)) {
    reject(path_template, std::string(to_string(method)) + " is already registered");
  }
  registered_.push_back({method, std::string(path_template), policy});
  route.handlers.emplace(method, guard_ ? guard_(policy, std::move(handler)) : std::move(handler));
}

std::vector<RouteInfo> Router::routes() const {
  return registered_;
}

void Router::add_websocket(std::string_view path_template, ws::WebSocketFactory factory,
                           edge::RoutePolicy policy) {
  if (!factory) {
    reject(path_template, "empty WebSocket factory");
  }
  Route& route = route_for(path_template);
  if (route.websocket) {
    reject(path_template, "a WebSocket route is already registered");
  }
  route.websocket = std::move(factory);
  registered_.push_back({Method::kGet, std::string(path_template), policy, true});
  // Admitted: 101 tells the server to go on with the handshake (with the admission's headers).
  Handler accept = [](const std::shared_ptr<Exchange>& exchange) {
    exchange->respond(Response{101, {}, {}});
  };
  route.websocket_admission = guard_ ? guard_(policy, std::move(accept)) : std::move(accept);
}

std::vector<std::pair<const Router::Route*, PathParams>> Router::candidates(std::string_view path) const {
  std::vector<std::pair<const Route*, PathParams>> found;
  if (path.empty() || path.front() != '/') {
    return found;
  }

  const auto parts = split_path(path);
  for (const Route& route : routes_) {
    if (route.segments.size() != parts.size()) {
      continue;
    }
    PathParams params;
    bool matches = true;
    for (std::size_t i = 0; i < parts.size() && matches; ++i) {
      const Segment& segment = route.segments[i];
      if (!segment.is_param) {
        matches = segment.text == parts[i];
        continue;
      }
      // A parameter goes on as text (into proto3 strings, SQL, JSON), so it must be UTF-8 once decoded;
      // like a malformed escape, anything else matches no route.
      auto value = parts[i].empty() ? std::nullopt : percent_decode(parts[i]);
      matches = value.has_value() && common::is_valid_utf8(*value);
      if (matches) {
        params.emplace_back(segment.text, std::move(*value));
      }
    }
    if (matches) {
      found.emplace_back(&route, std::move(params));
    }
  }
  return found;
}

RouteMatch Router::match(Method method, std::string_view path) const {
  auto found = candidates(path);
  RouteMatch result;

  // The most specific template that serves `wanted`; the other candidates only matter for Allow.
  const auto best_serving = [&](Method wanted) {
    std::pair<const Route*, PathParams>* best = nullptr;
    for (auto& candidate : found) {
      if (!candidate.first->handlers.contains(wanted)) {
        continue;
      }
      if (best == nullptr || more_specific(*candidate.first, *best->first)) {
        best = &candidate;
      }
    }
    return best;
  };
  auto* best = best_serving(method);
  // RFC 9110 section 9.3.2: HEAD is GET without the body, so a GET handler serves it (the server drops the
  // body).
  if (best == nullptr && method == Method::kHead) {
    best = best_serving(Method::kGet);
  }
  if (best != nullptr) {
    result.outcome = RouteMatch::Outcome::kMatched;
    result.handler =
        &best->first->handlers.at(best->first->handlers.contains(method) ? method : Method::kGet);
    result.route = best->first->path_template;
    result.params = std::move(best->second);
    return result;
  }

  const Route* most_specific = nullptr;
  std::set<Method> allowed;
  for (const auto& [route, params] : found) {
    if (route->handlers.empty()) {
      continue;  // a WebSocket-only path
    }
    for (const auto& [route_method, handler] : route->handlers) {
      allowed.insert(route_method);
    }
    if (most_specific == nullptr || more_specific(*route, *most_specific)) {
      most_specific = route;
    }
  }
  if (allowed.contains(Method::kGet)) {
    allowed.insert(Method::kHead);
  }
  if (most_specific != nullptr) {
    result.outcome = RouteMatch::Outcome::kMethodNotAllowed;
    result.route = most_specific->path_template;
    result.allowed.assign(allowed.begin(), allowed.end());
  }
  return result;
}

std::optional<WebSocketMatch> Router::match_websocket(std::string_view path) const {
  auto found = candidates(path);
  std::pair<const Route*, PathParams>* best = nullptr;
  for (auto& candidate : found) {
    if (!candidate.first->websocket) {
      continue;
    }
    if (best == nullptr || more_specific(*candidate.first, *best->first)) {
      best = &candidate;
    }
  }
  if (best == nullptr) {
    return std::nullopt;
  }
  return WebSocketMatch{&*best->first->websocket, &best->first->websocket_admission,
                        best->first->path_template, std::move(best->second)};
}

std::string Router::allow_header(const std::vector<Method>& methods) {
  std::string header;
  for (const Method method : methods) {
    if (!header.empty()) {
      header += ", ";
    }
    header += to_string(method);
  }
  return header;
}

}  // namespace rally::gateway::http
