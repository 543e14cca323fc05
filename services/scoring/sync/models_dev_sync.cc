#include "services/scoring/sync/models_dev_sync.h"

#include <spdlog/spdlog.h>

#include <exception>
#include <utility>

#include "services/common/config.h"
#include "services/llm-proxy/http/http_url.h"

namespace rally::scoring {
namespace {

using common::Error;
using common::ErrorCode;
using std::chrono::milliseconds;
using SteadyClock = std::chrono::steady_clock;
using SystemClock = std::chrono::system_clock;

constexpr std::string_view kUrlKey = "RALLY_SCORING_MODELS_DEV_URL";

Error stopping_error() {
  return Error(ErrorCode::kServiceUnavailable, "models.dev syncing is stopping");
}

}  // namespace

ModelsDevSyncSettings ModelsDevSyncSettings::from(const common::ConfigSource& config) {
  constexpr auto kDay = std::chrono::duration_cast<milliseconds>(std::chrono::hours(24));
  ModelsDevSyncSettings settings;
  settings.url = config.get_string(kUrlKey, settings.url);
  if (!settings.url.empty()) {
    if (auto parsed = llm_proxy::HttpUrl::parse(settings.url); !parsed) {
      throw common::ConfigError(std::string(kUrlKey), "expected an absolute http:// or https:// URL, got \"" +
                                                          settings.url + "\": " + parsed.error().message);
    }
  }
  settings.sync_interval = config.get_duration("RALLY_SCORING_MODELS_DEV_SYNC_INTERVAL",
                                               settings.sync_interval, milliseconds(10'000), kDay * 30);
  // Up to 4 s, leaving the request a second of the gateway's 5 s deadline for the scoring itself.
  settings.timeout = config.get_duration("RALLY_SCORING_MODELS_DEV_TIMEOUT", settings.timeout,
                                         milliseconds(100), milliseconds(4000));
  settings.sync_timeout = config.get_duration("RALLY_SCORING_MODELS_DEV_SYNC_TIMEOUT", settings.sync_timeout,
                                              milliseconds(100), milliseconds(600'000));
  settings.min_refresh_interval = config.get_duration("RALLY_SCORING_MODELS_DEV_MIN_REFRESH",
                                                      settings.min_refresh_interval, milliseconds(0), kDay);
  return settings;
}

struct ModelsDevSync::Flight {
  bool landed = false;
  common::Result<bool> outcome = false;
};

ModelsDevSync::ModelsDevSync(ModelsDevSyncSettings settings, CatalogCallback on_catalog)
    : settings_(std::move(settings)), on_catalog_(std::move(on_catalog)) {
  status_.enabled = settings_.enabled();
  status_.url = settings_.url;
  if (settings_.enabled())
    client_ = std::make_unique<ModelsDevClient>(settings_.url, settings_.max_body_bytes);
}

ModelsDevSync::~ModelsDevSync() {
  {
    const std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  changed_.notify_all();
  if (client_) client_->shutdown();
  if (thread_.joinable()) thread_.join();
}

void ModelsDevSync::start() {
  const std::lock_guard lock(mutex_);
  if (!client_ || thread_.joinable() || stopping_) return;
  thread_ = std::thread([this] { run(); });
}

void ModelsDevSync::run() {
  Lock lock(mutex_);
  while (!stopping_) {
    if (flight_) {
      // A refresh is fetching right now: it counts as this round's sync.
      changed_.wait(lock, [this] { return stopping_ || !flight_; });
    } else {
      fly(lock, settings_.sync_timeout);
    }
    const auto next = SteadyClock::now() + settings_.sync_interval;
    changed_.wait_until(lock, next, [this] { return stopping_; });
  }
}

common::Result<bool> ModelsDevSync::refresh_now() {
  if (!client_) return false;
  Lock lock(mutex_);
  if (stopping_) return stopping_error();
  if (flight_) return wait_for(lock, flight_);  // a copy: the member is reset when the flight lands
  if (last_fetch_started_ && SteadyClock::now() - *last_fetch_started_ < settings_.min_refresh_interval) {
    return last_outcome_;
  }
  return fly(lock, settings_.timeout);
}

common::Result<bool> ModelsDevSync::wait_for(Lock& lock, std::shared_ptr<Flight> flight) {
  const auto deadline = SteadyClock::now() + settings_.timeout;
  changed_.wait_until(lock, deadline, [&] { return flight->landed || stopping_; });
  if (flight->landed) return flight->outcome;
  if (stopping_) return stopping_error();
  return Error(ErrorCode::kApiTimeout,
               "models.dev did not answer within " + std::to_string(settings_.timeout.count()) + " ms",
               {{"url", settings_.url}});
}

common::Result<bool> ModelsDevSync::fly(Lock& lock, milliseconds timeout) {
  auto flight = std::make_shared<Flight>();
  flight_ = flight;
  last_fetch_started_ = SteadyClock::now();
  status_.last_attempt = SystemClock::now();
  const ModelsDevValidators previous = validators_;
  lock.unlock();

  common::Result<ModelsDevResponse> response = client_->fetch(previous, timeout);
  const SystemClock::time_point fetched_at = SystemClock::now();
  std::optional<ModelsDevValidators> validators;
  common::Result<bool> outcome = false;
  if (!response) {
    outcome = response.error();
  } else if (!response->modified) {
    validators = response->validators;
    spdlog::debug("models.dev: {} not modified", settings_.url);
  } else {
    const ModelsDevOrigin origin{settings_.url, response->validators.etag, response->validators.last_modified,
                                 fetched_at};
    const std::size_t models = response->catalog.models.size();
    const std::size_t providers = response->catalog.provider_count;
    try {
      on_catalog_(std::move(response->catalog), origin);
      validators = response->validators;
      outcome = true;
      spdlog::info(
          "models.dev: new catalog of {} models from {} providers from {} (ETag {}, Last-Modified {})",
          models, providers, settings_.url, origin.etag.empty() ? "none" : origin.etag,
          origin.last_modified.empty() ? "none" : origin.last_modified);
    } catch (const std::exception& e) {
      // The validators stay as they were, so the next fetch gets this document again.
      outcome =
          Error(ErrorCode::kInternal, std::string("the models.dev catalog callback failed: ") + e.what());
    }
  }

  lock.lock();
  ++status_.fetches;
  if (validators) {
    validators_ = *validators;
    status_.validators = *validators;
    status_.last_success = fetched_at;
    status_.last_error.reset();
  } else if (!outcome) {
    status_.last_error = outcome.error();
    if (!stopping_)
      spdlog::warn("models.dev: sync from {} failed: {}", settings_.url, outcome.error().message);
  }
  if (outcome && outcome.value()) {
    ++status_.catalogs_delivered;
    status_.last_delivery = fetched_at;
  }
  last_outcome_ = outcome;
  flight->outcome = outcome;
  flight->landed = true;
  flight_.reset();
  changed_.notify_all();
  return outcome;
}

ModelsDevSyncStatus ModelsDevSync::status() const {
  const std::lock_guard lock(mutex_);
  return status_;
}

}  // namespace rally::scoring
