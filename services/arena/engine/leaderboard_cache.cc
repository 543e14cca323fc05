#include "services/arena/engine/leaderboard_cache.h"

#include <utility>
#include <vector>

namespace rally::arena {

LeaderboardView make_leaderboard_view(const ModelRatings& ratings, const PriceTable& prices,
                                      std::shared_ptr<const RatingFit> fit, double unrated_rating) {
  std::vector<ModelStanding> standings;
  standings.reserve(ratings.size());
  std::uint64_t participations = 0;
  for (const auto& [name, stored] : ratings) {
    const auto price = prices.find(name);
    standings.push_back({name, stored.rating, price == prices.end() ? 0.0 : price->second, stored.counts});
    participations += stored.counts.votes;
  }
  LeaderboardView view;
  view.board =
      build_leaderboard(std::move(standings), fit ? fit->estimates : RatingEstimates{}, unrated_rating);
  view.total_votes = participations / 2;  // every vote counts for both of its models
  view.fit = std::move(fit);
  return view;
}

LeaderboardCache::LeaderboardCache(VoteStore& store, double unrated_rating)
    : store_(store), unrated_rating_(unrated_rating) {}

void LeaderboardCache::invalidate() {
  invalidations_.fetch_add(1, std::memory_order_acq_rel);
}

void LeaderboardCache::set_fit(std::shared_ptr<const RatingFit> fit) {
  {
    std::lock_guard lock(mutex_);
    fit_ = std::move(fit);
  }
  invalidate();
}

bool LeaderboardCache::set_prices(PriceTable prices) {
  {
    std::lock_guard lock(mutex_);
    if (prices == prices_) return false;
    prices_ = std::move(prices);
  }
  invalidate();
  return true;
}

std::shared_ptr<const RatingFit> LeaderboardCache::fit() const {
  std::lock_guard lock(mutex_);
  return fit_;
}

common::Result<std::shared_ptr<const LeaderboardView>> LeaderboardCache::current() {
  // Taken before reading the store: a vote that invalidated up to here committed before the query below.
  const std::uint64_t wanted = invalidations_.load(std::memory_order_acquire) + 1;
  const auto fresh = [&]() -> std::shared_ptr<const LeaderboardView> {
    std::lock_guard lock(mutex_);
    return view_generation_ >= wanted ? view_ : nullptr;
  };
  if (auto view = fresh()) return view;

  std::lock_guard rebuild(rebuild_mutex_);
  if (auto view = fresh()) return view;  // a rebuild that started after our vote finished meanwhile
  const std::uint64_t generation = invalidations_.load(std::memory_order_acquire) + 1;
  common::Result<ModelRatings> ratings = store_.ratings();
  if (!ratings.ok()) return ratings.error();
  std::shared_ptr<const RatingFit> fit;
  PriceTable prices;
  {
    std::lock_guard lock(mutex_);
    fit = fit_;
    prices = prices_;
  }
  auto view = std::make_shared<const LeaderboardView>(
      make_leaderboard_view(ratings.value(), prices, std::move(fit), unrated_rating_));
  std::lock_guard lock(mutex_);
  if (generation > view_generation_) {
    view_ = view;
    view_generation_ = generation;
  }
  return std::shared_ptr<const LeaderboardView>(std::move(view));
}

}  // namespace rally::arena
