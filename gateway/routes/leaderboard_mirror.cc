#include "gateway/routes/leaderboard_mirror.h"

#include <utility>

namespace rally::gateway::routes {

LeaderboardMirror::Lookup LeaderboardMirror::lookup(Clock::time_point now, Waiter waiter) {
  std::lock_guard lock(mutex_);
  if (max_age_.count() == 0) return {nullptr, true, generation_};
  if (body_ && now - fetched_ < max_age_) return {body_, false, generation_};
  auto flight = in_flight_.find(generation_);
  if (flight == in_flight_.end()) {
    in_flight_.emplace(generation_, std::vector<Waiter>{});
    return {nullptr, true, generation_};
  }
  flight->second.push_back(std::move(waiter));
  return {nullptr, false, generation_};
}

void LeaderboardMirror::finish(std::uint64_t generation, Body body, Clock::time_point fetched) {
  std::vector<Waiter> waiters;
  {
    std::lock_guard lock(mutex_);
    if (max_age_.count() == 0) return;
    if (auto flight = in_flight_.find(generation); flight != in_flight_.end()) {
      waiters = std::move(flight->second);
      in_flight_.erase(flight);
    }
    if (body && generation == generation_) {
      body_ = body;
      fetched_ = fetched;
    }
  }
  // Outside the lock: a waiter answers its client, and one that falls back may look up again.
  for (Waiter& waiter : waiters) waiter(body);
}

void LeaderboardMirror::invalidate() {
  std::lock_guard lock(mutex_);
  ++generation_;
  body_.reset();
}

}  // namespace rally::gateway::routes
