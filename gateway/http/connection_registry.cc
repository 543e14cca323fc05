#include "gateway/http/connection_registry.h"

#include "services/common/metrics.h"

namespace rally::gateway::http {

ConnectionRegistry::ConnectionRegistry(common::metrics::Gauge& open_connections)
    : open_connections_(open_connections) {}

std::optional<std::uint64_t> ConnectionRegistry::add(std::weak_ptr<Connection> connection) {
  std::lock_guard lock(mutex_);
  if (shutting_down_) {
    return std::nullopt;
  }
  const std::uint64_t id = next_id_++;
  connections_.emplace(id, std::move(connection));
  open_connections_.inc();
  return id;
}

ConnectionRegistry::Added ConnectionRegistry::add_within(std::weak_ptr<Connection> connection,
                                                         std::size_t limit) {
  std::lock_guard lock(mutex_);
  if (shutting_down_) {
    return {};
  }
  if (connections_.size() >= limit) {
    return {std::nullopt, true};
  }
  const std::uint64_t id = next_id_++;
  connections_.emplace(id, std::move(connection));
  open_connections_.inc();
  return {id, false};
}

void ConnectionRegistry::remove(std::uint64_t id) {
  std::lock_guard lock(mutex_);
  if (connections_.erase(id) == 0) {
    return;
  }
  open_connections_.dec();
  // Notified under the lock: a waiter may destroy the registry as soon as it sees it empty.
  if (connections_.empty()) {
    emptied_.notify_all();
  }
}

std::vector<std::shared_ptr<Connection>> ConnectionRegistry::begin_shutdown() {
  std::lock_guard lock(mutex_);
  shutting_down_ = true;
  return live_locked();
}

std::vector<std::shared_ptr<Connection>> ConnectionRegistry::live() const {
  std::lock_guard lock(mutex_);
  return live_locked();
}

std::vector<std::shared_ptr<Connection>> ConnectionRegistry::live_locked() const {
  std::vector<std::shared_ptr<Connection>> live;
  live.reserve(connections_.size());
  for (const auto& [id, weak] : connections_) {
    if (auto connection = weak.lock()) {
      live.push_back(std::move(connection));
    }
  }
  return live;
}

bool ConnectionRegistry::wait_until_empty(std::chrono::steady_clock::time_point deadline) {
  std::unique_lock lock(mutex_);
  return emptied_.wait_until(lock, deadline, [this] { return connections_.empty(); });
}

std::size_t ConnectionRegistry::size() const {
  std::lock_guard lock(mutex_);
  return connections_.size();
}

}  // namespace rally::gateway::http
