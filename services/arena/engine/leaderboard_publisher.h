// Pushes leaderboard changes to live subscribers (the gateway's /api/v1/ws/leaderboard) without slowing
// votes: a vote only marks the leaderboard changed; a background thread reads the fresh leaderboard and
// hands it to `publish` (Redis PUBLISH), at most once per `min_interval`, so a burst of votes becomes one
// message carrying all of them.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>

#include "services/arena/engine/leaderboard_cache.h"

namespace rally::arena {

class LeaderboardPublisher {
 public:
  // `publish` runs on the publisher's thread; it may block briefly (Redis) and must not throw.
  LeaderboardPublisher(LeaderboardCache& cache, std::chrono::milliseconds min_interval,
                       std::function<void(const LeaderboardView&)> publish);
  ~LeaderboardPublisher();  // stops and joins; a pending change is published first
  LeaderboardPublisher(const LeaderboardPublisher&) = delete;
  LeaderboardPublisher& operator=(const LeaderboardPublisher&) = delete;

  // The leaderboard changed. Any thread, never blocks.
  void notify();
  // Messages handed to `publish` so far.
  std::uint64_t published() const;

 private:
  void run();

  LeaderboardCache& cache_;
  const std::chrono::milliseconds min_interval_;
  const std::function<void(const LeaderboardView&)> publish_;

  mutable std::mutex mutex_;
  std::condition_variable wake_;
  bool changed_ = false;
  bool stopping_ = false;
  std::uint64_t published_ = 0;
  std::thread thread_;  // last: starts once everything above exists
};

}  // namespace rally::arena
