// A request as route handlers see it, free of Beast. The exchange owns it: it stays valid for as long as the
// handler holds the exchange, also on the gRPC thread that completes the response later.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "gateway/http/headers.h"
#include "gateway/http/method.h"

namespace rally::gateway::http {

// Values of a path template's {name} segments, percent-decoded, in template order.
using PathParams = std::vector<std::pair<std::string, std::string>>;

class Request {
 public:
  Request(Method method, std::string target, Headers headers, std::string body = {});

  Method method() const { return method_; }
  // As sent: "/api/v1/models/gpt-4/score?verbose=1".
  const std::string& target() const { return target_; }
  // The target up to '?', still percent-encoded: "/api/v1/models/gpt-4/score".
  std::string_view path() const;
  // The target after '?', empty when there is none: "verbose=1".
  std::string_view query() const;
  // The first value of query parameter `name`, decoded ('+' is a space); nullopt when absent or malformed.
  std::optional<std::string> query_param(std::string_view name) const;
  std::optional<std::string_view> header(std::string_view name) const { return headers_.get(name); }
  const Headers& headers() const { return headers_; }
  const std::string& body() const { return body_; }

  // The id this request is known by in responses, logs and upstream calls (X-Request-Id).
  const std::string& request_id() const { return request_id_; }
  // The peer as "ip:port".
  const std::string& client_address() const { return client_address_; }
  // The peer's host without the port ("192.0.2.7", "[2001:db8::1]"): a client is its host, not one of its
  // connections, for rate limits and voter identity.
  std::string_view client_host() const;
  // The template of the matched route ("/api/v1/models/{model_id}/score"); empty before routing.
  const std::string& route() const { return route_; }
  // A {name} segment of the matched route, decoded; nullopt when the route has no such parameter.
  std::optional<std::string_view> path_param(std::string_view name) const;

  // Filled in by the server before a handler sees the request.
  void set_request_id(std::string request_id) { request_id_ = std::move(request_id); }
  void set_client_address(std::string address) { client_address_ = std::move(address); }
  void set_route(std::string route, PathParams params);

 private:
  Method method_;
  std::string target_;
  Headers headers_;
  std::string body_;
  std::string request_id_;
  std::string client_address_;
  std::string route_;
  PathParams path_params_;
};

}  // namespace rally::gateway::http
