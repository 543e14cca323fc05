#include "gateway/http/http_metrics.h"

#include <string>

#include "services/common/metrics.h"

namespace rally::gateway::http {

HttpMetrics::HttpMetrics(common::metrics::Registry& registry)
    : requests_(registry.counter("rally_gateway_http_requests_total",
                                 "HTTP requests by route, method and status", {"route", "method", "status"})),
      latency_(registry.histogram("rally_gateway_http_request_duration_seconds",
                                  "Time from the first request byte to the last response byte", {"route"})),
      in_flight_(
          registry.gauge("rally_gateway_http_requests_in_flight", "Requests received and not yet answered")
              .labels()),
      open_connections_(
          registry.gauge("rally_gateway_open_connections", "Open client connections (HTTP and WebSocket)")
              .labels()),
      connections_refused_(registry
                               .counter("rally_gateway_connections_refused_total",
                                        "Connections answered 503 and closed at the connection limit")
                               .labels()),
      open_streams_(
          registry.gauge("rally_gateway_open_streams", "Responses being streamed (Server-Sent Events)")
              .labels()),
      open_websockets_(
          registry.gauge("rally_gateway_open_websockets", "WebSocket connections past their upgrade")
              .labels()) {}

void HttpMetrics::record_request(std::string_view route, std::string_view method, int status,
                                 std::chrono::steady_clock::duration latency) {
  requests_.labels({std::string(route), std::string(method), std::to_string(status)}).inc();
  latency_.labels({std::string(route)}).observe(std::chrono::duration<double>(latency).count());
}

}  // namespace rally::gateway::http
