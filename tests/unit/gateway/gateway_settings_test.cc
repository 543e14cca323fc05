#include "gateway/gateway_settings.h"

#include <catch2/catch.hpp>
#include <chrono>
#include <string>
#include <vector>

#include "services/common/config.h"

namespace rally::gateway {
namespace {

using common::ConfigError;
using common::ConfigSource;
using common::HostPort;
using namespace std::chrono_literals;

GatewaySettings from_env(ConfigSource::Values env) {
  return GatewaySettings::from(ConfigSource::from_values({}, std::move(env)));
}

TEST_CASE("gateway settings default to the documented values", "[gateway_settings]") {
  const GatewaySettings settings = from_env({});
  CHECK(settings.http.listen == HostPort{"127.0.0.1", 8080});
  CHECK(settings.http.io_threads == 2);
  CHECK(settings.http.body_limit == 1048576);  // 1 MiB
  CHECK(settings.http.header_timeout == 10s);
  CHECK(settings.http.idle_timeout == 60s);
  CHECK(settings.http.json_max_depth == 32);
  CHECK(settings.http.json_max_string_bytes == 524288);  // 512 KiB
  CHECK(settings.http.max_connections == 10000);
  CHECK(settings.http.cors_origins.empty());
  CHECK(settings.ready_timeout == 1s);
  CHECK(settings.shutdown_drain == 10s);
  CHECK(settings.llm.completion_timeout == 120s);
  CHECK(settings.llm.stream_timeout == 300s);
  CHECK(settings.llm.models_timeout == 5s);
  CHECK(settings.llm.sse_heartbeat == 10s);
  CHECK(settings.arena_timeout == 5s);
  CHECK(settings.scoring.timeout == 5s);
  CHECK(settings.scoring.batch_timeout == 120s);
  CHECK(settings.postgres.url == "postgresql://rally@127.0.0.1:55432/rally");
  CHECK(settings.postgres.pool_size == 8);
  CHECK(settings.tokens.refresh == 30s);
  CHECK(settings.tokens.last_used_flush == 10s);
  CHECK(settings.redis.address == HostPort{"127.0.0.1", 56379});
  CHECK(settings.redis.password.empty());
  CHECK(settings.upstreams.llm_proxy == HostPort{"127.0.0.1", 50051});
  CHECK(settings.upstreams.arena == HostPort{"127.0.0.1", 50052});
  CHECK(settings.upstreams.scoring == HostPort{"127.0.0.1", 50053});
  CHECK(settings.upstreams.critique == HostPort{"127.0.0.1", 50054});
  CHECK(settings.rate_limits.enabled);
  CHECK(settings.rate_limits.connections == 4);
  CHECK(settings.rate_limits.rules.at("score").limit == 100);
  CHECK(settings.rate_limits.rules.at("score").window == 60s);
}

TEST_CASE("gateway settings read every key", "[gateway_settings]") {
  GatewaySettings settings = from_env({
      {"RALLY_GATEWAY_ADDR", "0.0.0.0:9000"},
      {"RALLY_GATEWAY_THREADS", "4"},
      {"RALLY_GATEWAY_BODY_LIMIT", "2MiB"},
      {"RALLY_GATEWAY_HEADER_TIMEOUT", "5s"},
      {"RALLY_GATEWAY_IDLE_TIMEOUT", "30s"},
      {"RALLY_GATEWAY_JSON_MAX_DEPTH", "64"},
      {"RALLY_GATEWAY_JSON_MAX_STRING", "16KiB"},
      {"RALLY_GATEWAY_MAX_CONNECTIONS", "500"},
      {"RALLY_GATEWAY_CORS_ORIGINS", " https://app.example , http://localhost:3000,"},
      {"RALLY_GATEWAY_READY_TIMEOUT", "250ms"},
      {"RALLY_SHUTDOWN_DRAIN", "3s"},
      {"RALLY_GATEWAY_LLM_TIMEOUT", "90s"},
      {"RALLY_GATEWAY_LLM_STREAM_TIMEOUT", "10m"},
      {"RALLY_GATEWAY_LLM_MODELS_TIMEOUT", "2s"},
      {"RALLY_GATEWAY_SSE_HEARTBEAT", "15s"},
      {"RALLY_GATEWAY_ARENA_TIMEOUT", "750ms"},
      {"RALLY_GATEWAY_SCORING_TIMEOUT", "3s"},
      {"RALLY_GATEWAY_SCORING_BATCH_TIMEOUT", "5m"},
      {"RALLY_GATEWAY_TOKEN_REFRESH", "2m"},
      {"RALLY_GATEWAY_TOKEN_LAST_USED_FLUSH", "5s"},
      {"RALLY_PG_URL", "postgresql://gw@db:5432/rally"},
      {"RALLY_PG_POOL_SIZE", "3"},
      {"RALLY_REDIS_ADDR", "redis:6380"},
      {"RALLY_REDIS_PASSWORD", "s3cret"},
      {"RALLY_REDIS_CONNECT_TIMEOUT", "2s"},
      {"RALLY_REDIS_COMMAND_TIMEOUT", "150ms"},
      {"RALLY_REDIS_RECONNECT_BACKOFF", "1s"},
      {"RALLY_LLM_PROXY_ADDR", "llm-proxy:7001"},
      {"RALLY_ARENA_ADDR", "arena:7002"},
      {"RALLY_SCORING_ADDR", "scoring:7003"},
      {"RALLY_CRITIQUE_ADDR", "critique:7004"},
      {"RALLY_GATEWAY_RATE_LIMITS", "off"},
      {"RALLY_GATEWAY_RATE_LIMIT_SCORE", "5/1s"},
      {"RALLY_GATEWAY_RATE_LIMIT_BATCH", "6/2s"},
      {"RALLY_GATEWAY_RATE_LIMIT_NAMING", "7/3s"},
      {"RALLY_GATEWAY_RATE_LIMIT_COMPARE", "8/4s"},
      {"RALLY_GATEWAY_RATE_LIMIT_LLM", "9/5s"},
      {"RALLY_GATEWAY_RATE_LIMIT_VOTE", "10/6s"},
      {"RALLY_GATEWAY_RATE_LIMIT_CRITIQUE", "11/7s"},
      {"RALLY_GATEWAY_RATE_LIMIT_READ", "12/1m"},
      {"RALLY_GATEWAY_RATE_LIMIT_ADMIN", "off"},
      {"RALLY_GATEWAY_RATE_LIMIT_CONNECTIONS", "8"},
  });
  CHECK(settings.http.listen == HostPort{"0.0.0.0", 9000});
  CHECK(settings.http.io_threads == 4);
  CHECK(settings.http.body_limit == 2097152);
  CHECK(settings.http.header_timeout == 5s);
  CHECK(settings.http.idle_timeout == 30s);
  CHECK(settings.http.json_max_depth == 64);
  CHECK(settings.http.json_max_string_bytes == 16384);
  CHECK(settings.http.max_connections == 500);
  CHECK(settings.http.cors_origins ==
        std::vector<std::string>{"https://app.example", "http://localhost:3000"});
  CHECK(settings.ready_timeout == 250ms);
  CHECK(settings.shutdown_drain == 3s);
  CHECK(settings.llm.completion_timeout == 90s);
  CHECK(settings.llm.stream_timeout == 10min);
  CHECK(settings.llm.models_timeout == 2s);
  CHECK(settings.llm.sse_heartbeat == 15s);
  CHECK(settings.arena_timeout == 750ms);
  CHECK(settings.scoring.timeout == 3s);
  CHECK(settings.scoring.batch_timeout == 5min);
  CHECK(settings.tokens.refresh == 2min);
  CHECK(settings.tokens.last_used_flush == 5s);
  CHECK(settings.postgres.url == "postgresql://gw@db:5432/rally");
  CHECK(settings.postgres.pool_size == 3);
  CHECK(settings.redis.address == HostPort{"redis", 6380});
  CHECK(settings.redis.password == "s3cret");
  CHECK(settings.redis.connect_timeout == 2s);
  CHECK(settings.redis.command_timeout == 150ms);
  CHECK(settings.redis.reconnect_backoff == 1s);
  CHECK(settings.upstreams.llm_proxy == HostPort{"llm-proxy", 7001});
  CHECK(settings.upstreams.arena == HostPort{"arena", 7002});
  CHECK(settings.upstreams.scoring == HostPort{"scoring", 7003});
  CHECK(settings.upstreams.critique == HostPort{"critique", 7004});
  CHECK_FALSE(settings.rate_limits.enabled);
  CHECK(settings.rate_limits.connections == 8);
  CHECK(edge::describe(settings.rate_limits) == "off (RALLY_GATEWAY_RATE_LIMITS=off): no request is limited");
  settings.rate_limits.enabled = true;
  CHECK(
      edge::describe(settings.rate_limits) ==
      "score 5/1s, batch 6/2s, naming 7/3s, compare 8/4s, llm 9/5s, vote 10/6s, critique 11/7s, read 12/60s, "
      "admin off");
}

TEST_CASE("a bad value is refused with its key named", "[gateway_settings]") {
  const std::pair<std::string, std::string> bad_values[] = {
      {"RALLY_GATEWAY_ADDR", "no-port"},
      {"RALLY_GATEWAY_THREADS", "0"},
      {"RALLY_GATEWAY_THREADS", "many"},
      {"RALLY_GATEWAY_BODY_LIMIT", "0"},
      {"RALLY_GATEWAY_BODY_LIMIT", "1TB"},
      {"RALLY_GATEWAY_HEADER_TIMEOUT", "10"},
      {"RALLY_GATEWAY_IDLE_TIMEOUT", "0s"},
      {"RALLY_GATEWAY_JSON_MAX_DEPTH", "0"},
      {"RALLY_GATEWAY_JSON_MAX_DEPTH", "257"},
      {"RALLY_GATEWAY_JSON_MAX_STRING", "0"},
      {"RALLY_GATEWAY_MAX_CONNECTIONS", "0"},
      {"RALLY_GATEWAY_CORS_ORIGINS", "app.example"},
      {"RALLY_GATEWAY_CORS_ORIGINS", "https://app.example/path"},
      {"RALLY_GATEWAY_READY_TIMEOUT", "2h"},
      {"RALLY_SHUTDOWN_DRAIN", "-1s"},
      {"RALLY_LLM_PROXY_ADDR", "127.0.0.1:0"},
      {"RALLY_ARENA_ADDR", "127.0.0.1:70000"},
      {"RALLY_SCORING_ADDR", ""},
      {"RALLY_CRITIQUE_ADDR", "critique"},
      {"RALLY_GATEWAY_LLM_TIMEOUT", "0s"},
      {"RALLY_GATEWAY_LLM_STREAM_TIMEOUT", "2h"},
      {"RALLY_GATEWAY_LLM_MODELS_TIMEOUT", "5"},
      {"RALLY_GATEWAY_SSE_HEARTBEAT", "1ms"},
      {"RALLY_GATEWAY_ARENA_TIMEOUT", "2m"},
      {"RALLY_GATEWAY_SCORING_TIMEOUT", "5ms"},
      {"RALLY_GATEWAY_SCORING_BATCH_TIMEOUT", "2h"},
      {"RALLY_GATEWAY_TOKEN_REFRESH", "500ms"},
      {"RALLY_GATEWAY_TOKEN_LAST_USED_FLUSH", "2h"},
      {"RALLY_PG_URL", ""},
      {"RALLY_REDIS_ADDR", "redis"},
      {"RALLY_REDIS_COMMAND_TIMEOUT", "0ms"},
      {"RALLY_GATEWAY_RATE_LIMITS", "maybe"},
      {"RALLY_GATEWAY_RATE_LIMIT_SCORE", "100"},
      {"RALLY_GATEWAY_RATE_LIMIT_READ", "0/60s"},
      {"RALLY_GATEWAY_RATE_LIMIT_CONNECTIONS", "0"},
  };
  for (const auto& [key, value] : bad_values) {
    CAPTURE(key, value);
    try {
      from_env({{key, value}});
      FAIL("accepted " << key << "=" << value);
    } catch (const ConfigError& e) {
      CHECK(e.key() == key);
    }
  }
}

}  // namespace
}  // namespace rally::gateway
