#include "services/arena/engine/rating_fitter.h"

#include <spdlog/spdlog.h>

#include <random>
#include <utility>

namespace rally::arena {

RatingFit fit_ratings(const std::vector<std::string>& models, const std::vector<StoredVote>& votes,
                      const RatingFitSettings& settings, std::chrono::system_clock::time_point now) {
  std::vector<Battle> battles;
  battles.reserve(votes.size());
  for (const StoredVote& vote : votes) {
    if (settings.battle_votes_only && !vote.battle_id) continue;
    battles.push_back(vote.battle);
  }
  std::mt19937_64 random(settings.seed);
  RatingFit fit;
  fit.estimates = bootstrap_bradley_terry(models, battles, settings.model, settings.bootstrap, random);
  fit.computed_at = now;
  fit.votes = battles.size();
  return fit;
}

RatingFitter::RatingFitter(VoteStore& store, LeaderboardCache& cache, RatingFitSettings settings,
                           std::function<void()> on_fit)
    : store_(store),
      cache_(cache),
      settings_(std::move(settings)),
      on_fit_(std::move(on_fit)),
      thread_([this] { run(); }) {}

RatingFitter::~RatingFitter() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

void RatingFitter::note_vote() {
  bool due = false;
  {
    std::lock_guard lock(mutex_);
    due = ++votes_since_fit_ >= settings_.every_votes;
  }
  if (due) wake_.notify_all();
}

void RatingFitter::request_fit() {
  {
    std::lock_guard lock(mutex_);
    fit_requested_ = true;
  }
  wake_.notify_all();
}

std::uint64_t RatingFitter::fits() const {
  std::lock_guard lock(mutex_);
  return fits_;
}

void RatingFitter::run() {
  using Clock = std::chrono::steady_clock;
  Clock::time_point last_attempt = Clock::now();
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    const auto due = [&] {
      return stopping_ || fit_requested_ || votes_since_fit_ >= settings_.every_votes ||
             (votes_since_fit_ > 0 && Clock::now() >= last_attempt + settings_.interval);
    };
    // Wakes at the interval too, when votes may have arrived without reaching every_votes.
    wake_.wait_until(lock, last_attempt + settings_.interval, due);
    if (stopping_) break;
    if (!due()) {
      last_attempt = Clock::now();  // nothing new in a whole interval: just start the next one
      continue;
    }
    const std::uint32_t covered = votes_since_fit_;
    fit_requested_ = false;
    votes_since_fit_ = 0;
    lock.unlock();
    const bool fitted = fit_once();
    lock.lock();
    last_attempt = Clock::now();
    if (fitted) {
      ++fits_;
    } else {
      votes_since_fit_ += covered;  // try again at the next interval
    }
  }
}

bool RatingFitter::fit_once() {
  common::Result<ModelRatings> ratings = store_.ratings();
  common::Result<std::vector<StoredVote>> votes =
      ratings.ok() ? store_.votes() : common::Result<std::vector<StoredVote>>(ratings.error());
  if (!votes.ok()) {
    spdlog::warn("arena: Bradley-Terry refit postponed: {}", votes.error().message);
    return false;
  }
  std::vector<std::string> models;
  models.reserve(ratings->size());
  for (const auto& entry : ratings.value()) models.push_back(entry.first);
  try {
    auto fit = std::make_shared<const RatingFit>(
        fit_ratings(models, votes.value(), settings_, std::chrono::system_clock::now()));
    cache_.set_fit(std::move(fit));
  } catch (const std::exception& error) {
    spdlog::error("arena: Bradley-Terry fit failed: {}", error.what());
    return false;
  }
  if (on_fit_) on_fit_();
  return true;
}

}  // namespace rally::arena
