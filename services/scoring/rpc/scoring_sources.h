// Reads the scoring inputs other services own: the suite's catalog (rally.v1.LlmProxy/ListModels), what the
// llm-proxy measured (GetUsageStats) and the arena's ratings (rally.v1.Arena/Leaderboard). Each call has a
// deadline; a source that fails keeps its last good value (and is logged), so one service being down never
// empties the catalog or drops measurements already read.
#pragma once

#include <chrono>
#include <memory>
#include <mutex>

#include "services/scoring/domain/catalog_assembly.h"

namespace grpc {
class Channel;
}

namespace rally::v1 {
class ListModelsResponse;
class GetUsageStatsResponse;
class LeaderboardResponse;
}  // namespace rally::v1

namespace rally::scoring {

// The messages as the domain sees them (pure; exposed for tests).
std::vector<CatalogModel> catalog_models_of(const v1::ListModelsResponse& response);
std::map<std::string, MeasuredPerformance, std::less<>> measurements_of(
    const v1::GetUsageStatsResponse& response);
// The Bradley-Terry rating when the arena's last fit covered votes, else the online ELO rating.
std::map<std::string, ArenaStanding, std::less<>> standings_of(const v1::LeaderboardResponse& response);

class SourceReader {
 public:
  SourceReader(std::shared_ptr<grpc::Channel> llm_proxy, std::shared_ptr<grpc::Channel> arena,
               std::chrono::milliseconds timeout);
  ~SourceReader();
  SourceReader(const SourceReader&) = delete;
  SourceReader& operator=(const SourceReader&) = delete;

  // Reads all three sources (blocking, at most three deadlines) and returns the newest good value of each.
  ScoringSources read();
  // True once ListModels answered at least once.
  bool catalog_read() const;

 private:
  struct Stubs;
  std::unique_ptr<Stubs> stubs_;
  const std::chrono::milliseconds timeout_;
  mutable std::mutex mutex_;
  ScoringSources last_;
  bool catalog_read_ = false;
};

}  // namespace rally::scoring
