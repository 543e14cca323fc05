#include "services/arena/engine/leaderboard_publisher.h"

#include <spdlog/spdlog.h>

#include <utility>

namespace rally::arena {

LeaderboardPublisher::LeaderboardPublisher(LeaderboardCache& cache, std::chrono::milliseconds min_interval,
                                           std::function<void(const LeaderboardView&)> publish)
    : cache_(cache), min_interval_(min_interval), publish_(std::move(publish)), thread_([this] { run(); }) {}

LeaderboardPublisher::~LeaderboardPublisher() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

void LeaderboardPublisher::notify() {
  {
    std::lock_guard lock(mutex_);
    changed_ = true;
  }
  wake_.notify_all();
}

std::uint64_t LeaderboardPublisher::published() const {
  std::lock_guard lock(mutex_);
  return published_;
}

void LeaderboardPublisher::run() {
  std::unique_lock lock(mutex_);
  while (true) {
    wake_.wait(lock, [this] { return changed_ || stopping_; });
    if (!changed_) break;  // stopping with nothing pending
    changed_ = false;
    lock.unlock();
    // Read after clearing the flag: a change that lands during the read sets it again and is sent next.
    auto view = cache_.current();
    if (view.ok()) {
      publish_(*view.value());
    } else {
      spdlog::warn("arena: leaderboard not published: {}", view.error().message);
    }
    lock.lock();
    if (view.ok()) ++published_;
    if (stopping_) break;
    // Coalesce: changes during the pause go out together after it.
    wake_.wait_for(lock, min_interval_, [this] { return stopping_; });
    if (stopping_ && !changed_) break;
  }
}

}  // namespace rally::arena
