// rally.v1.Scoring/WatchScores: every score change any scoring replica publishes on Redis
// (kScoreUpdatesChannel), streamed to the gRPC watchers that asked for that model: by its provider/model
// key or any alias the update lists, or all with no ids or "*". One Redis subscription serves every
// watcher. Each watcher has a bounded queue; one that falls `max_queued` updates behind is ended with
// RESOURCE_EXHAUSTED rather than allowed to grow memory.
#pragma once

#include <grpcpp/grpcpp.h>

#include <condition_variable>
#include <cstddef>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "rally/v1/scoring.pb.h"

namespace rally::common {
class RedisSubscriber;
struct RedisSettings;
}  // namespace rally::common

namespace rally::scoring {

// True when a watcher of `model_ids` (empty or containing "*": every model) wants `update` (pure).
bool wants(const std::vector<std::string>& model_ids, const v1::ScoreUpdate& update);

class ScoreWatchers {
 public:
  ScoreWatchers(const common::RedisSettings& redis, std::string channel, std::size_t max_queued);
  // Ends every watcher (ends(), then waits until gRPC is done with them) and stops the subscription.
  ~ScoreWatchers();
  ScoreWatchers(const ScoreWatchers&) = delete;
  ScoreWatchers& operator=(const ScoreWatchers&) = delete;

  // The reactor for one WatchScores call; updates published from now on follow.
  grpc::ServerWriteReactor<v1::ScoreUpdate>* watch(const v1::WatchScoresRequest& request);
  // Finishes every open watch with OK (the service is stopping); later calls are refused UNAVAILABLE.
  void end_all();
  std::size_t watcher_count() const;

 private:
  class Watcher;
  void deliver(std::string_view payload);
  // The watchers now (and, with `end`, no more from now on).
  std::vector<std::shared_ptr<Watcher>> snapshot(bool end);
  // From the watcher's OnDone: drops it from the registry and hands over the registry's reference.
  std::shared_ptr<Watcher> forget(Watcher* watcher);

  const std::size_t max_queued_;
  mutable std::mutex mutex_;
  std::condition_variable all_done_;
  std::map<Watcher*, std::shared_ptr<Watcher>> watchers_;
  bool ended_ = false;
  std::unique_ptr<common::RedisSubscriber> subscriber_;  // last: its thread stops before the rest goes away
};

}  // namespace rally::scoring
