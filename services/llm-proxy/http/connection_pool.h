// Idle keep-alive connections per origin. Internal to rally_llm_proxy_http.
//
// Connections are reused most-recently-used first: warm connections stay busy while the least recently
// used ones age out before servers drop them. A sweep closes connections that outlived idle_timeout or that
// the server closed, so idle sockets never linger in CLOSE_WAIT for long.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/system/error_code.hpp>
#include <chrono>
#include <cstddef>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "services/llm-proxy/http/upstream_connection.h"

namespace rally::llm_proxy::detail {

class ConnectionPool {
 public:
  // `executor` runs the sweep timer; the pool must be destroyed only once it no longer runs handlers.
  ConnectionPool(const boost::asio::any_io_executor& executor, std::size_t max_idle_per_origin,
                 std::chrono::milliseconds idle_timeout);
  ~ConnectionPool();
  ConnectionPool(const ConnectionPool&) = delete;
  ConnectionPool& operator=(const ConnectionPool&) = delete;

  // The most recently used idle connection to `origin` that is still intact, or null. Connections found
  // expired or closed on the way are closed.
  std::unique_ptr<UpstreamConnection> take(const std::string& origin);
  // Keeps a connection whose last response ended cleanly, closing the origin's oldest idle connection
  // beyond max_idle_per_origin (and this one when pooling is off or the pool was shut down). The caller
  // must have no operation in flight on it.
  void put(std::unique_ptr<UpstreamConnection> connection);
  // Closes every idle connection and stops the sweep; later put() calls close their connection.
  void shut_down();

  std::map<std::string, std::size_t> idle_counts() const;

 private:
  using IdleList = std::deque<std::unique_ptr<UpstreamConnection>>;  // oldest first

  void arm_sweep_locked();
  void on_sweep(boost::system::error_code ec);

  const std::size_t max_idle_per_origin_;
  const std::chrono::milliseconds idle_timeout_;

  mutable std::mutex mutex_;
  std::map<std::string, IdleList> idle_;   // no empty lists
  boost::asio::steady_timer sweep_timer_;  // used under mutex_ only
  bool sweep_armed_ = false;
  bool shut_down_ = false;
};

}  // namespace rally::llm_proxy::detail
