#include "gateway/gateway_settings.h"

#include <catch2/catch.hpp>
#include <chrono>
#include <string>

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
  CHECK(settings.ready_timeout == 1s);
  CHECK(settings.shutdown_drain == 10s);
  CHECK(settings.llm.completion_timeout == 120s);
  CHECK(settings.llm.stream_timeout == 300s);
  CHECK(settings.llm.models_timeout == 5s);
  CHECK(settings.llm.sse_heartbeat == 10s);
  CHECK(settings.arena_timeout == 5s);
  CHECK(settings.redis.address == HostPort{"127.0.0.1", 56379});
  CHECK(settings.redis.password.empty());
  CHECK(settings.upstreams.llm_proxy == HostPort{"127.0.0.1", 50051});
  CHECK(settings.upstreams.arena == HostPort{"127.0.0.1", 50052});
  CHECK(settings.upstreams.scoring == HostPort{"127.0.0.1", 50053});
  CHECK(settings.upstreams.critique == HostPort{"127.0.0.1", 50054});
}

TEST_CASE("gateway settings read every key", "[gateway_settings]") {
  const GatewaySettings settings = from_env({
      {"RALLY_GATEWAY_ADDR", "0.0.0.0:9000"},
      {"RALLY_GATEWAY_THREADS", "4"},
      {"RALLY_GATEWAY_BODY_LIMIT", "2MiB"},
      {"RALLY_GATEWAY_HEADER_TIMEOUT", "5s"},
      {"RALLY_GATEWAY_IDLE_TIMEOUT", "30s"},
      {"RALLY_GATEWAY_READY_TIMEOUT", "250ms"},
      {"RALLY_SHUTDOWN_DRAIN", "3s"},
      {"RALLY_GATEWAY_LLM_TIMEOUT", "90s"},
      {"RALLY_GATEWAY_LLM_STREAM_TIMEOUT", "10m"},
      {"RALLY_GATEWAY_LLM_MODELS_TIMEOUT", "2s"},
      {"RALLY_GATEWAY_SSE_HEARTBEAT", "15s"},
      {"RALLY_GATEWAY_ARENA_TIMEOUT", "750ms"},
      {"RALLY_REDIS_ADDR", "redis:6380"},
      {"RALLY_REDIS_PASSWORD", "s3cret"},
      {"RALLY_REDIS_CONNECT_TIMEOUT", "2s"},
      {"RALLY_REDIS_COMMAND_TIMEOUT", "150ms"},
      {"RALLY_REDIS_RECONNECT_BACKOFF", "1s"},
      {"RALLY_LLM_PROXY_ADDR", "llm-proxy:7001"},
      {"RALLY_ARENA_ADDR", "arena:7002"},
      {"RALLY_SCORING_ADDR", "scoring:7003"},
      {"RALLY_CRITIQUE_ADDR", "critique:7004"},
  });
  CHECK(settings.http.listen == HostPort{"0.0.0.0", 9000});
  CHECK(settings.http.io_threads == 4);
  CHECK(settings.http.body_limit == 2097152);
  CHECK(settings.http.header_timeout == 5s);
  CHECK(settings.http.idle_timeout == 30s);
  CHECK(settings.ready_timeout == 250ms);
  CHECK(settings.shutdown_drain == 3s);
  CHECK(settings.llm.completion_timeout == 90s);
  CHECK(settings.llm.stream_timeout == 10min);
  CHECK(settings.llm.models_timeout == 2s);
  CHECK(settings.llm.sse_heartbeat == 15s);
  CHECK(settings.arena_timeout == 750ms);
  CHECK(settings.redis.address == HostPort{"redis", 6380});
  CHECK(settings.redis.password == "s3cret");
  CHECK(settings.redis.connect_timeout == 2s);
  CHECK(settings.redis.command_timeout == 150ms);
  CHECK(settings.redis.reconnect_backoff == 1s);
  CHECK(settings.upstreams.llm_proxy == HostPort{"llm-proxy", 7001});
  CHECK(settings.upstreams.arena == HostPort{"arena", 7002});
  CHECK(settings.upstreams.scoring == HostPort{"scoring", 7003});
  CHECK(settings.upstreams.critique == HostPort{"critique", 7004});
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
      {"RALLY_REDIS_ADDR", "redis"},
      {"RALLY_REDIS_COMMAND_TIMEOUT", "0ms"},
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
