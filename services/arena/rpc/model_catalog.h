// The arena's view of the model catalog, which the llm-proxy owns (rally.v1.LlmProxy/ListModels): which
// models exist, their price (leaderboard), sampling weight, enabled flag and cooldown (pairs). A background
// thread re-reads it every `refresh` and adds new models to the ratings table, so a model added to the
// catalog can be voted on without restarting the arena; pairs read it fresh per request, because a model's
// cooldown can start at any moment.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "services/arena/domain/pair_sampler.h"
#include "services/arena/engine/leaderboard_cache.h"
#include "services/arena/storage/vote_store.h"
#include "services/common/errors.h"

namespace grpc {
class Channel;
}

namespace rally::arena {

struct CatalogModel {
  std::string name;
  double price = 0;  // USD per 1K tokens
  double sampling_weight = 1;
  bool enabled = true;
  std::chrono::system_clock::time_point cooldown_until{};  // epoch: not cooled down
};

// The sampler's view at `now` (pure).
std::vector<PairCandidate> pair_candidates(const std::vector<CatalogModel>& catalog,
                                           std::chrono::system_clock::time_point now);

class ModelCatalog {
 public:
  using Fetched = std::function<void(common::Result<std::vector<CatalogModel>>)>;

  // Starts the refresh thread; the first refresh runs at once and retries every second until it succeeds.
  // New models enter the store at `initial_rating`. After each refresh, `on_refresh` gets the catalog's
  // prices and whether models were added (the leaderboard changed); it runs on the refresh thread. The
  // store must outlive the catalog.
  using RefreshListener = std::function<void(PriceTable prices, bool models_added)>;
  ModelCatalog(std::shared_ptr<grpc::Channel> llm_proxy, std::chrono::milliseconds timeout,
               std::chrono::milliseconds refresh, VoteStore& store, double initial_rating,
               RefreshListener on_refresh);
  ~ModelCatalog();  // stops the thread and waits for calls in flight
  ModelCatalog(const ModelCatalog&) = delete;
  ModelCatalog& operator=(const ModelCatalog&) = delete;

  // Reads the catalog (disabled models included); `done` runs on a gRPC thread, or at once with
  // SERVICE_UNAVAILABLE when the llm-proxy cannot be reached. The request id goes along for the logs.
  void fetch(std::string_view request_id, Fetched done);

  // Models that can be voted on: the ones in the ratings table (stored from earlier catalogs included).
  std::vector<std::string> known_models() const;
  // True once the catalog was read and its models stored at least once.
  bool synced() const;

 private:
  struct Calls;
  void run();
  bool refresh_once();

  struct Stub;
  std::unique_ptr<Stub> stub_;
  const std::chrono::milliseconds timeout_;
  const std::chrono::milliseconds refresh_;
  VoteStore& store_;
  const double initial_rating_;
  const RefreshListener on_refresh_;
  std::unique_ptr<Calls> calls_;

  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::set<std::string, std::less<>> known_;
  bool synced_ = false;
  bool stopping_ = false;
  std::thread thread_;  // last: starts once everything above exists
};

}  // namespace rally::arena
