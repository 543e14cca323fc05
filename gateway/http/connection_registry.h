// The live connections of one server, so shutdown can reach them: first to let them finish what they are
// doing, then, after the drain period, to close what is left. Connections register themselves and
// unregister when destroyed; the registry holds weak_ptrs and calls them outside its lock (the fan-out
// pattern of Beast's chat-multi example).
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <unordered_map>
#include <vector>

namespace rally::common::metrics {
class Gauge;
}

namespace rally::gateway::http {

// A client connection (HTTP or WebSocket) as shutdown sees it. Both calls are thread-safe.
class Connection {
 public:
  virtual ~Connection() = default;
  // Finish the request or stream in progress, then close; an idle keep-alive connection closes now.
  virtual void begin_shutdown() = 0;
  // Close now, cancelling whatever is in progress.
  virtual void force_close() = 0;
};

class ConnectionRegistry {
 public:
  explicit ConnectionRegistry(common::metrics::Gauge& open_connections);

  // Registers `connection` under a new id. Returns nullopt once shutdown has begun: the connection arrived
  // too late and should close at once.
  std::optional<std::uint64_t> add(std::weak_ptr<Connection> connection);
  // As add(), unless `limit` connections are open already: then nothing is registered and `full` is set.
  struct Added {
    std::optional<std::uint64_t> id;
    bool full = false;
  };
  Added add_within(std::weak_ptr<Connection> connection, std::size_t limit);
  void remove(std::uint64_t id);

  // Refuses new connections from now on and returns the live ones.
  std::vector<std::shared_ptr<Connection>> begin_shutdown();
  std::vector<std::shared_ptr<Connection>> live() const;
  // Blocks until no connection is left or `deadline` passes; true when none is left.
  bool wait_until_empty(std::chrono::steady_clock::time_point deadline);
  std::size_t size() const;

 private:
  std::vector<std::shared_ptr<Connection>> live_locked() const;

  common::metrics::Gauge& open_connections_;
  mutable std::mutex mutex_;
  std::condition_variable emptied_;
  std::unordered_map<std::uint64_t, std::weak_ptr<Connection>> connections_;
  std::uint64_t next_id_ = 1;
  bool shutting_down_ = false;
};

}  // namespace rally::gateway::http
