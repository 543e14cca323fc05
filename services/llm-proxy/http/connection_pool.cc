#include "services/llm-proxy/http/connection_pool.h"

#include <algorithm>
#include <utility>

namespace rally::llm_proxy::detail {
namespace {

using Clock = std::chrono::steady_clock;

// Servers close idle connections on their own schedule; checking this often bounds how long a connection
// they closed stays open here.
constexpr std::chrono::seconds kMaxSweepInterval{5};

}  // namespace

ConnectionPool::ConnectionPool(const boost::asio::any_io_executor& executor, std::size_t max_idle_per_origin,
                               std::chrono::milliseconds idle_timeout)
    : max_idle_per_origin_(max_idle_per_origin), idle_timeout_(idle_timeout), sweep_timer_(executor) {}

ConnectionPool::~ConnectionPool() {
  shut_down();
}

std::unique_ptr<UpstreamConnection> ConnectionPool::take(const std::string& origin) {
  std::vector<std::unique_ptr<UpstreamConnection>> to_close;  // closed outside the lock
  std::unique_ptr<UpstreamConnection> found;
  {
    const std::lock_guard lock(mutex_);
    const auto entry = idle_.find(origin);
    if (entry == idle_.end()) {
      return nullptr;
    }
    IdleList& list = entry->second;
    const auto now = Clock::now();
    while (!list.empty() && !found) {
      std::unique_ptr<UpstreamConnection> candidate = std::move(list.back());
      list.pop_back();
      if (now - candidate->idle_since >= idle_timeout_) {
        // Everything older has expired too.
        to_close.push_back(std::move(candidate));
        std::move(list.begin(), list.end(), std::back_inserter(to_close));
        list.clear();
      } else if (candidate->idle_and_intact()) {
        found = std::move(candidate);
      } else {
        to_close.push_back(std::move(candidate));
      }
    }
    if (list.empty()) {
      idle_.erase(entry);
    }
  }
  return found;
}

void ConnectionPool::put(std::unique_ptr<UpstreamConnection> connection) {
  std::vector<std::unique_ptr<UpstreamConnection>> to_close;
  {
    const std::lock_guard lock(mutex_);
    if (shut_down_ || max_idle_per_origin_ == 0) {
      to_close.push_back(std::move(connection));
    } else {
      // Whatever the buffer grew to while reading the last response is not worth keeping while idle.
      connection->buffer().shrink_to_fit();
      connection->idle_since = Clock::now();
      IdleList& list = idle_[connection->origin()];
      list.push_back(std::move(connection));
      while (list.size() > max_idle_per_origin_) {
        to_close.push_back(std::move(list.front()));
        list.pop_front();
      }
      arm_sweep_locked();
    }
  }
}

void ConnectionPool::shut_down() {
  std::map<std::string, IdleList> to_close;
  {
    const std::lock_guard lock(mutex_);
    shut_down_ = true;
    sweep_timer_.cancel();
    to_close.swap(idle_);
  }
}

std::map<std::string, std::size_t> ConnectionPool::idle_counts() const {
  const std::lock_guard lock(mutex_);
  std::map<std::string, std::size_t> counts;
  for (const auto& [origin, list] : idle_) {
    counts.emplace(origin, list.size());
  }
  return counts;
}

void ConnectionPool::arm_sweep_locked() {
  if (sweep_armed_ || shut_down_ || idle_.empty()) {
    return;
  }
  auto oldest = Clock::time_point::max();
  for (const auto& [origin, list] : idle_) {
    oldest = std::min(oldest, list.front()->idle_since);
  }
  sweep_timer_.expires_at(std::min(oldest + idle_timeout_, Clock::now() + kMaxSweepInterval));
  sweep_armed_ = true;
  // `this` outlives the wait: the client destroys the pool only after its I/O threads have finished.
  sweep_timer_.async_wait([this](boost::system::error_code ec) { on_sweep(ec); });
}

void ConnectionPool::on_sweep(boost::system::error_code ec) {
  std::vector<std::unique_ptr<UpstreamConnection>> to_close;
  {
    const std::lock_guard lock(mutex_);
    sweep_armed_ = false;
    if (ec || shut_down_) {
      return;
    }
    const auto now = Clock::now();
    for (auto entry = idle_.begin(); entry != idle_.end();) {
      IdleList& list = entry->second;
      for (auto it = list.begin(); it != list.end();) {
        if (now - (*it)->idle_since >= idle_timeout_ || !(*it)->idle_and_intact()) {
          to_close.push_back(std::move(*it));
          it = list.erase(it);
        } else {
          ++it;
        }
      }
      entry = list.empty() ? idle_.erase(entry) : std::next(entry);
    }
    arm_sweep_locked();
  }
}

}  // namespace rally::llm_proxy::detail
