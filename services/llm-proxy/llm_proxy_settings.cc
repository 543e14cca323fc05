#include "services/llm-proxy/llm_proxy_settings.h"

#include <array>
#include <utility>

namespace rally::llm_proxy {
namespace {

using std::chrono::milliseconds;
constexpr milliseconds kHour{60 * 60 * 1000};

HttpTimeouts read_timeouts(const common::ConfigSource& config, const std::string& prefix) {
  HttpTimeouts timeouts;
  timeouts.connect =
      config.get_duration(prefix + "_CONNECT_TIMEOUT", milliseconds(10'000), milliseconds(1), kHour);
  timeouts.first_byte =
      config.get_duration(prefix + "_FIRST_BYTE_TIMEOUT", milliseconds(60'000), milliseconds(1), kHour);
  // Providers go quiet for a while under load, but a stream silent for a minute is dead.
  timeouts.idle = config.get_duration(prefix + "_IDLE_TIMEOUT", milliseconds(60'000), milliseconds(0), kHour);
  timeouts.total =
      config.get_duration(prefix + "_TOTAL_TIMEOUT", milliseconds(600'000), milliseconds(0), kHour);
  return timeouts;
}

}  // namespace

LlmProxySettings LlmProxySettings::from(const common::ConfigSource& config) {
  LlmProxySettings settings;
  settings.catalog_path = config.get_nonempty_string("RALLY_LLM_PROXY_CATALOG", settings.catalog_path);
  settings.simulator_url = config.get_string("RALLY_LLM_PROXY_SIMULATOR_URL", "");

  RetryPolicy& retry = settings.engine.retry;
  retry.max_attempts = static_cast<std::uint32_t>(config.get_int("RALLY_LLM_PROXY_MAX_ATTEMPTS", 3, 1, 10));
  retry.base_delay =
      config.get_duration("RALLY_LLM_PROXY_RETRY_BASE_DELAY", retry.base_delay, milliseconds(1), kHour);
  retry.max_delay =
      config.get_duration("RALLY_LLM_PROXY_RETRY_MAX_DELAY", retry.max_delay, milliseconds(1), kHour);
  retry.max_retry_after =
      config.get_duration("RALLY_LLM_PROXY_MAX_RETRY_AFTER", retry.max_retry_after, milliseconds(0), kHour);

  CooldownSettings& cooldown = settings.engine.cooldown;
  cooldown.failure_threshold =
      static_cast<std::uint32_t>(config.get_int("RALLY_LLM_PROXY_COOLDOWN_FAILURES", 3, 1, 1000));
  cooldown.failure_window =
      config.get_duration("RALLY_LLM_PROXY_COOLDOWN_WINDOW", cooldown.failure_window, milliseconds(1), kHour);
  cooldown.cooldown =
      config.get_duration("RALLY_LLM_PROXY_COOLDOWN", cooldown.cooldown, milliseconds(0), kHour);

  const std::array<std::pair<ProviderKind, const char*>, 3> providers{
      {{ProviderKind::kOpenAi, "RALLY_LLM_PROXY_OPENAI"},
       {ProviderKind::kAnthropic, "RALLY_LLM_PROXY_ANTHROPIC"},
       {ProviderKind::kOpenAiCompatible, "RALLY_LLM_PROXY_COMPATIBLE"}}};
  for (const auto& [kind, prefix] : providers) settings.engine.timeouts[kind] = read_timeouts(config, prefix);

  settings.engine.record_prompts = config.get_bool("RALLY_LLM_PROXY_RECORD_PROMPTS", false);
  settings.engine.simulator_api_key =
      config.get_nonempty_string("RALLY_LLM_PROXY_SIMULATOR_API_KEY", settings.engine.simulator_api_key);

  // One I/O thread by default: at hundreds of streams the cost is thread hand-offs, not I/O, and one
  // thread halved the proxy's CPU per event in the 500-stream benchmark (docs/benchmarks.md).
  settings.http.threads = static_cast<std::size_t>(config.get_int("RALLY_LLM_PROXY_HTTP_THREADS", 1, 1, 64));
  settings.http.max_idle_per_origin =
      static_cast<std::size_t>(config.get_int("RALLY_LLM_PROXY_MAX_IDLE_CONNECTIONS", 32, 0, 10'000));
  settings.http.extra_ca_file = config.get_string("RALLY_LLM_PROXY_EXTRA_CA_FILE", "");

  settings.usage.max_queue_records = static_cast<std::size_t>(
      config.get_int("RALLY_LLM_PROXY_USAGE_QUEUE",
                     static_cast<std::int64_t>(settings.usage.max_queue_records), 1, 10'000'000));
  settings.rpc.default_stats_window =
      config.get_duration("RALLY_LLM_PROXY_STATS_WINDOW", settings.rpc.default_stats_window,
                          milliseconds(1000), kHour * 24 * 366);
  return settings;
}

}  // namespace rally::llm_proxy
