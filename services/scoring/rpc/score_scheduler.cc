#include "services/scoring/rpc/score_scheduler.h"

#include <spdlog/spdlog.h>

#include <utility>

#include "services/scoring/engine/scoring_engine.h"
#include "services/scoring/rpc/scoring_sources.h"

namespace rally::scoring {

ScoreScheduler::ScoreScheduler(ScoringEngine& engine, SourceReader& sources, ModelCatalog models_dev,
                               Settings settings, common::ExclusiveLease* recalculation_lease)
    : engine_(engine),
      reader_(sources),
      settings_(settings),
      lease_(recalculation_lease),
      models_dev_(std::move(models_dev)) {
  install();
  thread_ = std::thread([this] { run(); });
}

ScoreScheduler::~ScoreScheduler() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  thread_.join();
  if (lease_ != nullptr) lease_->release();
}

void ScoreScheduler::set_models_dev(ModelCatalog models_dev) {
  {
    std::lock_guard lock(mutex_);
    models_dev_ = std::move(models_dev);
  }
  install();
}

std::uint64_t ScoreScheduler::rounds() const {
  std::lock_guard lock(mutex_);
  return rounds_;
}

void ScoreScheduler::install() {
  std::lock_guard install_lock(install_mutex_);
  ModelCatalog models_dev;
  ScoringSources sources;
  {
    std::lock_guard lock(mutex_);
    models_dev = models_dev_;
    sources = sources_;
  }
  engine_.set_catalog(std::make_shared<const ModelCatalog>(assemble_catalog(std::move(models_dev), sources)));
}

void ScoreScheduler::run() {
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    lock.unlock();
    ScoringSources sources = reader_.read();
    const bool ready = reader_.catalog_read();
    lock.lock();
    sources_ = std::move(sources);
    lock.unlock();
    install();
    // A recalculation PostgreSQL stopped (down, or not migrated yet at start) is tried again after `retry`,
    // not a whole interval later.
    bool recalculated = true;
    const bool scheduled = ready && settings_.interval.count() > 0;
    const common::LeaseState lease =
        scheduled && lease_ != nullptr ? lease_->try_hold() : common::LeaseState::kHeld;
    if (lease == common::LeaseState::kHeldElsewhere) {
      spdlog::debug("scoring: scheduled recalculation left to the replica holding the lease");
    } else if (scheduled && lease == common::LeaseState::kUnavailable) {
      recalculated = false;
      spdlog::warn(
          "scoring: scheduled recalculation stopped (again in {} ms): PostgreSQL unavailable for its lease",
          settings_.retry.count());
    } else if (scheduled) {
      common::Result<RecalculationSummary> summary = engine_.recalculate_all("scheduled recalculation");
      if (summary.ok()) {
        spdlog::info(
            "scoring: scheduled recalculation: {} scores, {} changed, {} kept for models no longer listed",
            summary->recalculated, summary->changed, summary->skipped);
      } else {
        recalculated = false;
        spdlog::warn("scoring: scheduled recalculation stopped (again in {} ms): {}", settings_.retry.count(),
                     summary.error().message);
      }
    }
    lock.lock();
    if (ready) ++rounds_;
    if (ready && settings_.interval.count() == 0) {
      wake_.wait(lock, [this] { return stopping_; });
    } else {
      wake_.wait_for(lock, ready && recalculated ? settings_.interval : settings_.retry,
                     [this] { return stopping_; });
    }
  }
}

}  // namespace rally::scoring
