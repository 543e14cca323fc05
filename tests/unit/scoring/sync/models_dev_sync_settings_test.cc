// ModelsDevSyncSettings::from: defaults, overrides and the keys a bad value names. The client and the sync
// themselves are tested against the LLM simulator in tests/integration/models_dev_sync_test.cc.
#include <catch2/catch.hpp>

#include "services/common/config.h"
#include "services/scoring/sync/models_dev_sync.h"

namespace {

using rally::common::ConfigError;
using rally::common::ConfigSource;
using rally::scoring::ModelsDevSyncSettings;
using std::chrono::milliseconds;

ModelsDevSyncSettings settings_of(ConfigSource::Values env) {
  return ModelsDevSyncSettings::from(ConfigSource::from_values({}, std::move(env)));
}

std::string key_of_error(ConfigSource::Values env) {
  try {
    settings_of(std::move(env));
  } catch (const ConfigError& e) {
    return e.key();
  }
  return "no error";
}

}  // namespace

TEST_CASE("models.dev sync settings: the defaults") {
  const ModelsDevSyncSettings settings = settings_of({});
  CHECK(settings.url == "https://models.dev/api.json");
  CHECK(settings.enabled());
  CHECK(settings.sync_interval == std::chrono::hours(6));
  CHECK(settings.timeout == std::chrono::seconds(3));
  CHECK(settings.sync_timeout == std::chrono::seconds(30));
  CHECK(settings.min_refresh_interval == std::chrono::seconds(60));
}

TEST_CASE("models.dev sync settings: overrides, and an empty URL disables syncing") {
  const ModelsDevSyncSettings settings =
      settings_of({{"RALLY_SCORING_MODELS_DEV_URL", "http://127.0.0.1:50080/api.json"},
                   {"RALLY_SCORING_MODELS_DEV_SYNC_INTERVAL", "30m"},
                   {"RALLY_SCORING_MODELS_DEV_TIMEOUT", "1500ms"},
                   {"RALLY_SCORING_MODELS_DEV_SYNC_TIMEOUT", "2m"},
                   {"RALLY_SCORING_MODELS_DEV_MIN_REFRESH", "0s"}});
  CHECK(settings.url == "http://127.0.0.1:50080/api.json");
  CHECK(settings.sync_interval == std::chrono::minutes(30));
  CHECK(settings.timeout == milliseconds(1500));
  CHECK(settings.sync_timeout == std::chrono::minutes(2));
  CHECK(settings.min_refresh_interval == milliseconds(0));

  CHECK_FALSE(settings_of({{"RALLY_SCORING_MODELS_DEV_URL", ""}}).enabled());
}

TEST_CASE("models.dev sync settings: a bad value names its key") {
  CHECK(key_of_error({{"RALLY_SCORING_MODELS_DEV_URL", "models.dev/api.json"}}) ==
        "RALLY_SCORING_MODELS_DEV_URL");
  CHECK(key_of_error({{"RALLY_SCORING_MODELS_DEV_URL", "ftp://models.dev/api.json"}}) ==
        "RALLY_SCORING_MODELS_DEV_URL");
  CHECK(key_of_error({{"RALLY_SCORING_MODELS_DEV_SYNC_INTERVAL", "1s"}}) ==
        "RALLY_SCORING_MODELS_DEV_SYNC_INTERVAL");
  // The gateway gives a scoring call 5 s; the fetch must leave room for the scoring itself.
  CHECK(key_of_error({{"RALLY_SCORING_MODELS_DEV_TIMEOUT", "5s"}}) == "RALLY_SCORING_MODELS_DEV_TIMEOUT");
  CHECK(key_of_error({{"RALLY_SCORING_MODELS_DEV_TIMEOUT", "0ms"}}) == "RALLY_SCORING_MODELS_DEV_TIMEOUT");
  CHECK(key_of_error({{"RALLY_SCORING_MODELS_DEV_SYNC_TIMEOUT", "1h"}}) ==
        "RALLY_SCORING_MODELS_DEV_SYNC_TIMEOUT");
  CHECK(key_of_error({{"RALLY_SCORING_MODELS_DEV_MIN_REFRESH", "soon"}}) ==
        "RALLY_SCORING_MODELS_DEV_MIN_REFRESH");
}
