// The leaderboard as the service serves it: built from the stored ratings and counts, the catalog's prices
// and the last Bradley-Terry fit, and kept until a vote or a new fit invalidates it. Reads never see a
// leaderboard older than a vote that committed before they started: the vote invalidates after its commit,
// and a read that finds its snapshot older than the last invalidation rebuilds it from the store (one
// query; concurrent readers share the rebuild).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "services/arena/domain/bradley_terry.h"
#include "services/arena/domain/leaderboard.h"
#include "services/arena/storage/vote_store.h"
#include "services/common/errors.h"

namespace rally::arena {

// One Bradley-Terry fit over the stored votes.
struct RatingFit {
  RatingEstimates estimates;
  std::chrono::system_clock::time_point computed_at{};
  std::uint64_t votes = 0;  // votes the fit covered
};

struct LeaderboardView {
  LeaderboardSnapshot board;
  std::uint64_t total_votes = 0;
  std::shared_ptr<const RatingFit> fit;  // null until the first fit
};

// USD per 1K tokens by model name; models without a price show 0.
using PriceTable = std::map<std::string, double, std::less<>>;

class LeaderboardCache {
 public:
  // `unrated_rating` is what a model without a fitted rating shows (the ELO initial rating). The store must
  // outlive the cache.
  LeaderboardCache(VoteStore& store, double unrated_rating);

  // After a vote committed: the next read rebuilds. Any thread, never blocks on the store.
  void invalidate();
  // A new fit replaces the previous one (and invalidates).
  void set_fit(std::shared_ptr<const RatingFit> fit);
  std::shared_ptr<const RatingFit> fit() const;
  // The catalog's prices (it owns them); invalidates and returns true when they changed.
  bool set_prices(PriceTable prices);

  // The current leaderboard. Blocking when a rebuild is due (one query): call it off gRPC's threads.
  // kDatabaseError when the store fails.
  common::Result<std::shared_ptr<const LeaderboardView>> current();

 private:
  VoteStore& store_;
  const double unrated_rating_;
  std::atomic<std::uint64_t> invalidations_{0};

  mutable std::mutex mutex_;  // guards the fields below
  std::shared_ptr<const RatingFit> fit_;
  PriceTable prices_;
  std::shared_ptr<const LeaderboardView> view_;
  std::uint64_t view_generation_ = 0;
  std::mutex rebuild_mutex_;  // one rebuild at a time; readers that waited reuse its result
};

// Builds the leaderboard from stored ratings (pure).
LeaderboardView make_leaderboard_view(const ModelRatings& ratings, const PriceTable& prices,
                                      std::shared_ptr<const RatingFit> fit, double unrated_rating);

}  // namespace rally::arena
