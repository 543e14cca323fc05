#include "gateway/gateway_settings.h"

#include <string>
#include <string_view>
#include <vector>

#include "gateway/http/edge_headers.h"
#include "gateway/http/json_body.h"
#include "services/common/config.h"

namespace rally::gateway {
namespace {

constexpr std::string_view kCorsOriginsKey = "RALLY_GATEWAY_CORS_ORIGINS";

// "https://a.example, https://b.example" -> each origin; "*" for any; empty for none.
std::vector<std::string> cors_origins(const common::ConfigSource& config) {
  const std::string text = config.get_string(kCorsOriginsKey, "");
  std::vector<std::string> origins;
  std::string_view rest = text;
  while (!rest.empty()) {
    const auto comma = rest.find(',');
    std::string_view item = rest.substr(0, comma);
    rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
    while (!item.empty() && (item.front() == ' ' || item.front() == '\t')) item.remove_prefix(1);
    while (!item.empty() && (item.back() == ' ' || item.back() == '\t')) item.remove_suffix(1);
    if (item.empty()) continue;
    if (const std::string problem = http::CorsPolicy::problem_with(item); !problem.empty()) {
      throw common::ConfigError(std::string(kCorsOriginsKey), problem);
    }
    origins.emplace_back(item);
  }
  return origins;
}

}  // namespace

GatewaySettings GatewaySettings::from(const common::ConfigSource& config) {
  using std::chrono::milliseconds;
  using std::chrono::minutes;
  using std::chrono::seconds;
  constexpr std::uint64_t kMiB = 1 << 20;
  const GatewaySettings defaults;

  GatewaySettings settings;
  settings.http.listen = config.get_host_port("RALLY_GATEWAY_ADDR", defaults.http.listen.to_string());
  settings.http.io_threads =
      static_cast<int>(config.get_int("RALLY_GATEWAY_THREADS", defaults.http.io_threads, 1, 256));
  settings.http.body_limit =
      config.get_bytes("RALLY_GATEWAY_BODY_LIMIT", defaults.http.body_limit, 1, 1024 * kMiB);
  settings.http.header_timeout = config.get_duration(
      "RALLY_GATEWAY_HEADER_TIMEOUT", defaults.http.header_timeout, milliseconds(100), minutes(10));
  settings.http.idle_timeout =
      config.get_duration("RALLY_GATEWAY_IDLE_TIMEOUT", defaults.http.idle_timeout, seconds(1), minutes(60));
  settings.http.json_max_depth = static_cast<std::size_t>(
      config.get_int("RALLY_GATEWAY_JSON_MAX_DEPTH", static_cast<std::int64_t>(defaults.http.json_max_depth),
                     1, static_cast<std::int64_t>(http::kMaxConfigurableJsonDepth)));
  settings.http.json_max_string_bytes =
      config.get_bytes("RALLY_GATEWAY_JSON_MAX_STRING", defaults.http.json_max_string_bytes, 1, 1024 * kMiB);
  settings.http.max_connections = static_cast<std::size_t>(
      config.get_int("RALLY_GATEWAY_MAX_CONNECTIONS",
                     static_cast<std::int64_t>(defaults.http.max_connections), 1, 1'000'000));
  settings.http.cors_origins = cors_origins(config);
  settings.ready_timeout = config.get_duration("RALLY_GATEWAY_READY_TIMEOUT", defaults.ready_timeout,
                                               milliseconds(10), seconds(60));
  settings.shutdown_drain =
      config.get_duration("RALLY_SHUTDOWN_DRAIN", defaults.shutdown_drain, milliseconds(0), minutes(10));
  settings.llm.completion_timeout = config.get_duration(
      "RALLY_GATEWAY_LLM_TIMEOUT", defaults.llm.completion_timeout, milliseconds(100), minutes(60));
  settings.llm.stream_timeout = config.get_duration(
      "RALLY_GATEWAY_LLM_STREAM_TIMEOUT", defaults.llm.stream_timeout, milliseconds(100), minutes(60));
  settings.llm.models_timeout = config.get_duration(
      "RALLY_GATEWAY_LLM_MODELS_TIMEOUT", defaults.llm.models_timeout, milliseconds(10), seconds(60));
  settings.llm.sse_heartbeat = config.get_duration("RALLY_GATEWAY_SSE_HEARTBEAT", defaults.llm.sse_heartbeat,
                                                   milliseconds(10), minutes(10));
  settings.arena_timeout = config.get_duration("RALLY_GATEWAY_ARENA_TIMEOUT", defaults.arena_timeout,
                                               milliseconds(10), seconds(60));
  settings.critique_timeout = config.get_duration("RALLY_GATEWAY_CRITIQUE_TIMEOUT", defaults.critique_timeout,
                                                  milliseconds(100), minutes(10));
  settings.leaderboard_max_age = config.get_duration(
      "RALLY_GATEWAY_LEADERBOARD_MAX_AGE", defaults.leaderboard_max_age, milliseconds(0), seconds(60));
  settings.scoring.timeout = config.get_duration("RALLY_GATEWAY_SCORING_TIMEOUT", defaults.scoring.timeout,
                                                 milliseconds(10), seconds(60));
  settings.scoring.batch_timeout = config.get_duration(
      "RALLY_GATEWAY_SCORING_BATCH_TIMEOUT", defaults.scoring.batch_timeout, milliseconds(100), minutes(60));
  settings.redis = common::RedisSettings::from(config);
  settings.postgres = common::PostgresSettings::from(config);
  settings.tokens.refresh =
      config.get_duration("RALLY_GATEWAY_TOKEN_REFRESH", defaults.tokens.refresh, seconds(1), minutes(60));
  settings.tokens.last_used_flush = config.get_duration(
      "RALLY_GATEWAY_TOKEN_LAST_USED_FLUSH", defaults.tokens.last_used_flush, seconds(1), minutes(60));
  settings.admission.auth_enabled = config.get_bool("RALLY_GATEWAY_AUTH", defaults.admission.auth_enabled);
  settings.admission.threads = static_cast<std::size_t>(config.get_int(
      "RALLY_GATEWAY_ADMISSION_THREADS", static_cast<std::int64_t>(defaults.admission.threads), 1, 256));
  settings.admission.max_queued = static_cast<std::size_t>(
      config.get_int("RALLY_GATEWAY_ADMISSION_QUEUE",
                     static_cast<std::int64_t>(defaults.admission.max_queued), 1, 10'000'000));
  settings.rate_limits = edge::RateLimitSettings::from(config);

  settings.upstreams.llm_proxy =
      config.get_host_port("RALLY_LLM_PROXY_ADDR", defaults.upstreams.llm_proxy.to_string());
  settings.upstreams.arena = config.get_host_port("RALLY_ARENA_ADDR", defaults.upstreams.arena.to_string());
  settings.upstreams.scoring =
      config.get_host_port("RALLY_SCORING_ADDR", defaults.upstreams.scoring.to_string());
  settings.upstreams.critique =
      config.get_host_port("RALLY_CRITIQUE_ADDR", defaults.upstreams.critique.to_string());
  return settings;
}

}  // namespace rally::gateway
