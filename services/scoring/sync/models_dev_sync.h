// Keeps the scoring service's models.dev data current: a background thread fetches api.json every
// sync_interval with conditional requests and hands each new, parsed catalog to a callback; refresh_now()
// lets a request that names an unknown model ask for a fetch, bounded by the timeout, shared by concurrent
// callers and limited to one per min_refresh_interval. Until a sync succeeds nothing is delivered, so the
// service keeps the catalog it loaded at start (the committed snapshot).
//
//   ModelsDevSync sync(ModelsDevSyncSettings::from(config),
//                      [&](ModelCatalog catalog, const ModelsDevOrigin& origin) { engine.replace(...); });
//   sync.start();
//   ...
//   if (!resolve_model(catalog, id)) {
//     auto refreshed = sync.refresh_now();          // kApiTimeout when models.dev is too slow
//     if (!refreshed) return refreshed.error();
//     if (refreshed.value()) { /* the callback delivered a new catalog: look again */ }
//   }
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "services/common/errors.h"
#include "services/scoring/domain/model_catalog.h"
#include "services/scoring/sync/models_dev_client.h"

namespace rally::common {
class ConfigSource;
}

namespace rally::scoring {

struct ModelsDevSyncSettings {
  // RALLY_SCORING_MODELS_DEV_URL: api.json's address; empty disables syncing (the snapshot is all there is).
  std::string url = "https://models.dev/api.json";
  // RALLY_SCORING_MODELS_DEV_SYNC_INTERVAL: from the start of one periodic sync to the next.
  std::chrono::milliseconds sync_interval = std::chrono::hours(6);
  // RALLY_SCORING_MODELS_DEV_TIMEOUT: the longest refresh_now() waits; below the gateway's 5 s deadline
  // for scoring calls, so a slow models.dev is an API_TIMEOUT and not the gateway's own timeout.
  std::chrono::milliseconds timeout = std::chrono::seconds(3);
  // RALLY_SCORING_MODELS_DEV_SYNC_TIMEOUT: the bound of a periodic sync, which no request waits for, so a
  // slow link still gets the document.
  std::chrono::milliseconds sync_timeout = std::chrono::seconds(30);
  // RALLY_SCORING_MODELS_DEV_MIN_REFRESH: at most one fetch starts per this interval on behalf of
  // refresh_now(), so a stream of unknown model ids cannot turn into a stream of fetches.
  std::chrono::milliseconds min_refresh_interval = std::chrono::seconds(60);
  std::uint64_t max_body_bytes = kMaxModelsDevBodyBytes;

  bool enabled() const { return !url.empty(); }

  // Throws common::ConfigError naming the first bad key (a URL that is not absolute http(s), a duration
  // out of range, a request-path timeout over 4 s).
  static ModelsDevSyncSettings from(const common::ConfigSource& config);
};

// Where a delivered catalog came from.
struct ModelsDevOrigin {
  std::string url;
  std::string etag;           // empty when the server sent none
  std::string last_modified;  // as the server sent it; empty when it sent none
  std::chrono::system_clock::time_point fetched_at;
};

// For logs and health: what the syncing has done so far.
struct ModelsDevSyncStatus {
  bool enabled = false;
  std::string url;
  std::uint64_t fetches = 0;             // requests completed or failed
  std::uint64_t catalogs_delivered = 0;  // callback calls
  std::optional<std::chrono::system_clock::time_point> last_attempt;
  std::optional<std::chrono::system_clock::time_point> last_success;  // a new catalog, or 304
  std::optional<std::chrono::system_clock::time_point> last_delivery;
  std::optional<common::Error> last_error;  // of the latest fetch; nullopt when it succeeded
  ModelsDevValidators validators;           // of the catalog delivered last
};

class ModelsDevSync {
 public:
  // Runs on the thread that fetched (the sync's own, or a refresh_now() caller's), never two at once, and
  // before any refresh_now() waiting for that fetch returns. It must not call refresh_now() and should not
  // throw (a throw is logged, and the same document is fetched again next time).
  using CatalogCallback = std::function<void(ModelCatalog catalog, const ModelsDevOrigin& origin)>;

  ModelsDevSync(ModelsDevSyncSettings settings, CatalogCallback on_catalog);
  // Stops at once: wakes the sync thread, ends a fetch in progress and joins. No refresh_now() may be
  // running or start (stop the RPC server first).
  ~ModelsDevSync();
  ModelsDevSync(const ModelsDevSync&) = delete;
  ModelsDevSync& operator=(const ModelsDevSync&) = delete;

  // Starts the periodic sync: the first fetch at once, then one every sync_interval. Does nothing when
  // syncing is disabled or already started.
  void start();

  // A fetch now, for a request that needs a model the catalog lacks. true when it delivered a new catalog
  // (the callback has run), false when the document is unchanged or syncing is disabled. Bounded by
  // `timeout` (kApiTimeout beyond it; the fetch itself goes on). Callers while a fetch is in progress wait
  // for that one; callers within min_refresh_interval of the start of the last fetch get its outcome
  // without a fetch. Other errors are the client's (ModelsDevClient::fetch). Any thread.
  common::Result<bool> refresh_now();

  ModelsDevSyncStatus status() const;
  const ModelsDevSyncSettings& settings() const { return settings_; }

 private:
  struct Flight;
  using Lock = std::unique_lock<std::mutex>;

  void run();
  // Fetches (and calls back) with `lock` released, reacquires it and hands the outcome to the flight's
  // waiters.
  common::Result<bool> fly(Lock& lock, std::chrono::milliseconds timeout);
  common::Result<bool> wait_for(Lock& lock, std::shared_ptr<Flight> flight);

  const ModelsDevSyncSettings settings_;
  const CatalogCallback on_catalog_;
  std::unique_ptr<ModelsDevClient> client_;  // null when disabled

  mutable std::mutex mutex_;
  std::condition_variable changed_;  // a flight landed, or stopping
  bool stopping_ = false;
  std::shared_ptr<Flight> flight_;  // the fetch in progress
  std::optional<std::chrono::steady_clock::time_point> last_fetch_started_;
  common::Result<bool> last_outcome_ = false;
  ModelsDevValidators validators_;
  ModelsDevSyncStatus status_;
  std::thread thread_;  // last: it starts after everything it uses exists
};

}  // namespace rally::scoring
