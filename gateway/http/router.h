// Maps (method, path) to a handler. Paths are exact ("/healthz") or templates whose {name} segments match
// one non-empty path segment that percent-decodes to UTF-8 ("/api/v1/models/{model_id}/score"). When
// several templates match a path the most specific wins: at the first segment where they differ, a literal
// beats a parameter, so "/models/ranking" is not taken for "/models/{model_id}". Pure code: routes are
// added at start-up, then the router is only read (from every I/O thread). HEAD requests fall back to the
// GET handler.
#pragma once

#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "gateway/edge/access.h"
#include "gateway/http/exchange.h"
#include "gateway/http/method.h"
#include "gateway/http/request.h"
#include "gateway/ws/websocket.h"

namespace rally::gateway::http {

struct RouteMatch {
  enum class Outcome { kMatched, kNotFound, kMethodNotAllowed };

  Outcome outcome = Outcome::kNotFound;
  const Handler* handler = nullptr;  // kMatched
  std::string_view route;            // the matched template (kMatched, kMethodNotAllowed)
  PathParams params;                 // kMatched
  std::vector<Method> allowed;       // kMethodNotAllowed: every method the path supports, in enum order
};

struct WebSocketMatch {
  const ws::WebSocketFactory* factory = nullptr;
  // The route's admission: called with the upgrade request's exchange, it answers 101 (no body) when the
  // upgrade may proceed, with headers for the handshake, or refuses it with an error response.
  const Handler* admission = nullptr;
  std::string_view route;
  PathParams params;
};

// One registered route, for listings (the OpenAPI coverage test, docs).
struct RouteInfo {
  Method method = Method::kGet;
  std::string path_template;
  edge::RoutePolicy policy;
  bool websocket = false;
};

class Router {
 public:
  // Wraps each handler at registration with its policy's checks (edge::Admission::guard).
  using Guard = std::function<Handler(const edge::RoutePolicy& policy, Handler handler)>;

  // Set before routes are added: every handler added afterwards goes through it.
  void set_guard(Guard guard) { guard_ = std::move(guard); }

  // `policy` says who may call the route and its rate-limit class (public and unlimited by default).
  // Throws std::invalid_argument for a malformed template, a second handler for the same method and
  // template, or a template that differs from a registered one only in parameter names.
  void add(Method method, std::string_view path_template, Handler handler, edge::RoutePolicy policy = {});
  // The same rules, for WebSocket upgrade requests (which are GET requests) to `path_template`. The policy
  // is checked once, at the upgrade, through the guard like a handler's.
  void add_websocket(std::string_view path_template, ws::WebSocketFactory factory,
                     edge::RoutePolicy policy = {});

  // `path` is the raw (still percent-encoded) request path; parameters are decoded in the result.
  RouteMatch match(Method method, std::string_view path) const;
  std::optional<WebSocketMatch> match_websocket(std::string_view path) const;

  // Every (method, template) with its policy, in registration order; WebSocket routes as GET.
  std::vector<RouteInfo> routes() const;

  // "GET, POST": the Allow header of a 405 response.
  static std::string allow_header(const std::vector<Method>& methods);

 private:
  struct Segment {
    std::string text;  // the literal, or the parameter name
    bool is_param = false;
  };
  struct Route {
    std::string path_template;
    std::vector<Segment> segments;
    std::map<Method, Handler> handlers;
    std::optional<ws::WebSocketFactory> websocket;
    Handler websocket_admission;
  };

  Route& route_for(std::string_view path_template);
  // The routes whose template matches `path`, each with its decoded parameters.
  std::vector<std::pair<const Route*, PathParams>> candidates(std::string_view path) const;

  std::deque<Route> routes_;  // a deque: matches point into routes, which must not move
  std::vector<RouteInfo> registered_;
  Guard guard_;
};

}  // namespace rally::gateway::http
