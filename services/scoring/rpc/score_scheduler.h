// Keeps the engine's catalog assembled from the newest value of every source, and runs the scheduled
// recalculation. Its thread first reads the sources every `retry` until the llm-proxy's catalog was read
// (the suite's models must be present before they are scored), then recalculates, then reads the sources
// and recalculates again every `interval` (after `retry` when PostgreSQL stopped it). models.dev documents
// arrive from the sync at any time (set_models_dev) and take effect at once.
//
// Every replica reads the sources (each needs the catalog); with a lease, only its holder recalculates, so
// two replicas never store and publish the same round twice. A replica standing by tries the lease once
// per interval, so a holder that dies is replaced within one interval.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <thread>

#include "services/common/pg_advisory_lock.h"
#include "services/scoring/domain/catalog_assembly.h"

namespace rally::scoring {

class ScoringEngine;
class SourceReader;

class ScoreScheduler {
 public:
  struct Settings {
    // Between recalculations; zero: never recalculate on a schedule (sources are still read once the
    // catalog is, and at every models.dev document). RALLY_SCORING_RECALC_INTERVAL
    std::chrono::milliseconds interval{std::chrono::hours(1)};
    // Between attempts to read the llm-proxy's catalog at start.
    std::chrono::milliseconds retry{std::chrono::seconds(2)};
  };

  // Installs `models_dev` (with no suite models yet) in the engine and starts the thread. The engine, the
  // reader and the lease must outlive the scheduler; without a lease (nullptr) it always recalculates.
  ScoreScheduler(ScoringEngine& engine, SourceReader& sources, ModelCatalog models_dev, Settings settings,
                 common::ExclusiveLease* recalculation_lease = nullptr);
  ~ScoreScheduler();  // stops the thread (a recalculation in progress finishes its current model first)
  ScoreScheduler(const ScoreScheduler&) = delete;
  ScoreScheduler& operator=(const ScoreScheduler&) = delete;

  // A newer models.dev catalog: the engine's catalog is assembled again from it at once.
  void set_models_dev(ModelCatalog models_dev);
  // Completed scheduled recalculations (for tests and logs).
  std::uint64_t rounds() const;

 private:
  void run();
  void install();  // assembles from models_dev_ and sources_ and hands the result to the engine

  ScoringEngine& engine_;
  SourceReader& reader_;
  const Settings settings_;
  common::ExclusiveLease* const lease_;

  mutable std::mutex mutex_;
  std::condition_variable wake_;
  ModelCatalog models_dev_;
  ScoringSources sources_;
  std::uint64_t rounds_ = 0;
  bool stopping_ = false;
  std::mutex install_mutex_;  // one assembly at a time, so an older one never replaces a newer
  std::thread thread_;        // last: starts once everything above exists
};

}  // namespace rally::scoring
