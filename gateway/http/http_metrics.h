// The gateway's own HTTP metrics, registered once per registry:
//   rally_gateway_http_requests_total{route,method,status}     requests answered (or abandoned: 499, 444)
//   rally_gateway_http_request_duration_seconds{route}          first request byte to last response byte
//   rally_gateway_http_requests_in_flight                       received, not yet completed
//   rally_gateway_open_connections                              HTTP and WebSocket connections
//   rally_gateway_connections_refused_total                     turned away at the connection limit (503)
//   rally_gateway_open_streams                                  responses being streamed (Server-Sent Events)
//   rally_gateway_open_websockets                               WebSocket connections past their upgrade
// `route` is the matched template, never the raw path, so label cardinality stays bounded.
#pragma once

#include <chrono>
#include <string_view>

namespace rally::common::metrics {
class Counter;
class Gauge;
class Histogram;
class Registry;
template <typename Metric>
class Family;
}  // namespace rally::common::metrics

namespace rally::gateway::http {

// The route label of requests that matched no route (404, and protocol errors before routing).
inline constexpr std::string_view kUnmatchedRoute = "unmatched";

class HttpMetrics {
 public:
  explicit HttpMetrics(common::metrics::Registry& registry);

  void record_request(std::string_view route, std::string_view method, int status,
                      std::chrono::steady_clock::duration latency);
  common::metrics::Gauge& in_flight() { return in_flight_; }
  common::metrics::Gauge& open_connections() { return open_connections_; }
  common::metrics::Counter& connections_refused() { return connections_refused_; }
  common::metrics::Gauge& open_streams() { return open_streams_; }
  common::metrics::Gauge& open_websockets() { return open_websockets_; }

 private:
  common::metrics::Family<common::metrics::Counter>& requests_;
  common::metrics::Family<common::metrics::Histogram>& latency_;
  common::metrics::Gauge& in_flight_;
  common::metrics::Gauge& open_connections_;
  common::metrics::Counter& connections_refused_;
  common::metrics::Gauge& open_streams_;
  common::metrics::Gauge& open_websockets_;
};

}  // namespace rally::gateway::http
