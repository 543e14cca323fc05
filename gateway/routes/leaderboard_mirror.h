// The gateway's copy of GET /leaderboard's body, so reads need no arena call while nothing changed.
//
// Freshness rules (docs/arena.md, "Leaderboard reads"):
// - a vote that succeeds through this gateway invalidates the copy before its answer goes out, so a client
//   always reads its own vote;
// - each leaderboard the arena publishes on Redis (after votes through any replica, and after each
//   Bradley-Terry fit) invalidates it too;
// - a copy older than max_age is never served, which bounds staleness while Redis is unreachable.
// A fetch that began before an invalidation is never kept. Concurrent misses share one fetch: the first
// leads, the others wait for its body. Thread-safe; no I/O.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace rally::gateway::routes {

class LeaderboardMirror {
 public:
  using Clock = std::chrono::steady_clock;
  using Body = std::shared_ptr<const std::string>;
  // Gets the body the leading fetch produced, or nullptr when it failed (the waiter then asks on its own).
  using Waiter = std::function<void(Body)>;

  // max_age 0 turns the mirror off: every lookup leads its own fetch and nothing is kept.
  explicit LeaderboardMirror(std::chrono::milliseconds max_age) : max_age_(max_age) {}

  struct Lookup {
    Body body;                    // set: answer with it
    bool lead = false;            // set: fetch, then call finish(generation, ...)
    std::uint64_t generation{0};  // what the fetch is for
  };
  // One of: a fresh body; lead = true (the caller fetches); or neither, and `waiter` runs when the fetch in
  // flight finishes (on the thread that calls finish).
  Lookup lookup(Clock::time_point now, Waiter waiter);

  // The fetch led for `generation` ended with `body` (nullptr: failed), obtained at `fetched`. Keeps it
  // unless an invalidation came since, then hands it to the fetch's waiters.
  void finish(std::uint64_t generation, Body body, Clock::time_point fetched);

  // The leaderboard changed: nothing fetched before now is served again.
  void invalidate();

 private:
  const std::chrono::milliseconds max_age_;
  std::mutex mutex_;
  std::uint64_t generation_{0};
  Body body_;  // fetched for generation_, or null
  Clock::time_point fetched_;
  std::map<std::uint64_t, std::vector<Waiter>> in_flight_;  // generation -> who waits for its fetch
};

}  // namespace rally::gateway::routes
