// Keeps the Bradley-Terry ratings current without touching the request path: a background thread refits
// them from the stored votes after every `every_votes` new votes, or `interval` after the last fit when
// fewer arrived, and hands each fit to the leaderboard cache. A fit reads every vote (the bootstrap needs
// them all), so it runs at most once per trigger however many votes arrive meanwhile.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>

#include "services/arena/arena_settings.h"
#include "services/arena/engine/leaderboard_cache.h"
#include "services/arena/storage/vote_store.h"

namespace rally::arena {

// The fit itself, pure: the models and votes to rate (battle votes only when so configured), the seeded
// bootstrap. `models` are rated even without votes.
RatingFit fit_ratings(const std::vector<std::string>& models, const std::vector<StoredVote>& votes,
                      const RatingFitSettings& settings, std::chrono::system_clock::time_point now);

class RatingFitter {
 public:
  // Fits once at start (so the leaderboard has intervals as soon as there are votes), then on triggers.
  // `on_fit` runs on the fitter's thread after each fit reached the cache (publishing the change).
  RatingFitter(VoteStore& store, LeaderboardCache& cache, RatingFitSettings settings,
               std::function<void()> on_fit);
  ~RatingFitter();  // stops and joins; a fit in progress finishes first
  RatingFitter(const RatingFitter&) = delete;
  RatingFitter& operator=(const RatingFitter&) = delete;

  // A vote was stored. Any thread; never blocks on the fit.
  void note_vote();
  // Fits as soon as possible, whatever the counters say (tests, operators).
  void request_fit();
  // Fits completed so far (successful ones).
  std::uint64_t fits() const;

 private:
  void run();
  bool fit_once();

  VoteStore& store_;
  LeaderboardCache& cache_;
  const RatingFitSettings settings_;
  const std::function<void()> on_fit_;

  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::uint32_t votes_since_fit_ = 0;
  bool fit_requested_ = true;  // the initial fit
  bool stopping_ = false;
  std::uint64_t fits_ = 0;
  std::thread thread_;  // last: starts once everything above exists
};

}  // namespace rally::arena
