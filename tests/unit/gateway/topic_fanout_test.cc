// TopicFanout against real Redis servers: the shared throwaway server for delivery, a server of the test's
// own for a restart. Clients are recording channels standing in for WebSocket connections.
#include "gateway/ws/topic_fanout.h"

#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <memory>
#include <optional>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "services/common/redis_client.h"
#include "tests/support/process.h"
#include "tests/support/servers.h"
#include "tests/support/test_env.h"
#include "tests/unit/gateway/recording_channel.h"

namespace rally::gateway::ws {
namespace {

using common::RedisClient;
using common::RedisSettings;
using rally::testing::wait_until;
using namespace std::chrono_literals;
using gateway::testing::RecordingChannel;
using Texts = std::vector<std::string>;

RedisSettings settings_for(common::HostPort address, std::string password = "") {
  RedisSettings settings;
  settings.address = std::move(address);
  settings.password = std::move(password);
  settings.reconnect_backoff = 100ms;
  return settings;
}

// A channel of this run only, so parallel runs on the shared server never meet.
std::string unique_channel() {
  std::random_device device;
  return "rally_test:" + std::to_string(device()) + std::to_string(device()) + ":fanout";
}

// Wraps payloads in brackets and counts its calls; "bad" is refused and "throw" throws.
struct CountingTransform {
  std::shared_ptr<std::atomic<int>> calls = std::make_shared<std::atomic<int>>(0);

  TopicFanout::Transform function() const {
    return [calls = calls](std::string_view payload) -> std::optional<std::string> {
      ++*calls;
      if (payload == "bad") return std::nullopt;
      if (payload == "throw") throw std::runtime_error("cannot transform");
      return "[" + std::string(payload) + "]";
    };
  }
};

struct Subscribed {
  explicit Subscribed(const RedisSettings& settings)
      : channel(unique_channel()), fanout(settings, channel, transform.function()), publisher(settings) {
    REQUIRE(wait_until([&] { return fanout.connected(); }, 3000ms));
  }

  void publish(std::string_view message) { REQUIRE(publisher.publish(channel, message) == 1); }

  std::string channel;
  CountingTransform transform;
  TopicFanout fanout;
  RedisClient publisher;
};

TEST_CASE("a TopicFanout sends every message, transformed once, to every client in order", "[topic_fanout]") {
  Subscribed feed(settings_for(rally::testing::redis_address()));
  CHECK(feed.fanout.channel() == feed.channel);
  CHECK_FALSE(feed.fanout.latest());
  std::vector<std::shared_ptr<RecordingChannel>> clients;
  for (int i = 0; i < 3; ++i) {
    clients.push_back(std::make_shared<RecordingChannel>());
    feed.fanout.add(clients.back());
  }
  CHECK(feed.fanout.client_count() == 3);

  const std::string binary("a\0b", 3);
  for (const std::string& message : {std::string("one"), binary, std::string("three")}) {
    feed.publish(message);
  }
  for (const auto& client : clients) {
    CHECK(client->wait_for(3) == Texts{"[one]", "[" + binary + "]", "[three]"});
  }
  CHECK(*feed.transform.calls == 3);
  CHECK(feed.fanout.latest() == std::optional<std::string>("[three]"));

  // A client added later gets what arrives from then on only.
  auto late = std::make_shared<RecordingChannel>();
  feed.fanout.add(late);
  feed.publish("four");
  CHECK(late->wait_for(1) == Texts{"[four]"});
  CHECK(clients[0]->wait_for(4).back() == "[four]");
}

TEST_CASE("a TopicFanout drops closed, removed and released clients", "[topic_fanout]") {
  Subscribed feed(settings_for(rally::testing::redis_address()));
  auto kept = std::make_shared<RecordingChannel>();
  auto closed = std::make_shared<RecordingChannel>();
  auto removed = std::make_shared<RecordingChannel>();
  auto released = std::make_shared<RecordingChannel>();
  for (const auto& client : {kept, closed, removed, released}) {
    feed.fanout.add(client);
  }
  feed.publish("first");
  REQUIRE(kept->wait_for(1) == Texts{"[first]"});
  REQUIRE(released->wait_for(1) == Texts{"[first]"});

  closed->close();
  feed.fanout.remove(*removed);
  const std::weak_ptr<RecordingChannel> watch = released;
  released.reset();  // the fan-out must not be what keeps it alive
  CHECK(watch.expired());
  CHECK(feed.fanout.client_count() == 3);  // the closed and the released one wait for the next message

  feed.publish("second");
  CHECK(kept->wait_for(2) == Texts{"[first]", "[second]"});
  CHECK(wait_until([&] { return feed.fanout.client_count() == 1; }, 2000ms));
  CHECK(closed->sent() == Texts{"[first]"});
  CHECK(removed->sent() == Texts{"[first]"});
}

TEST_CASE("a TopicFanout skips payloads its transform refuses or throws on", "[topic_fanout]") {
  Subscribed feed(settings_for(rally::testing::redis_address()));
  auto client = std::make_shared<RecordingChannel>();
  feed.fanout.add(client);

  for (const std::string_view message : {"good", "bad", "throw", "after"}) {
    feed.publish(message);
  }
  CHECK(client->wait_for(2) == Texts{"[good]", "[after]"});
  CHECK(*feed.transform.calls == 4);
  CHECK(feed.fanout.latest() == std::optional<std::string>("[after]"));
  CHECK(feed.fanout.client_count() == 1);
}

TEST_CASE("a TopicFanout resubscribes when Redis comes back", "[topic_fanout][restart]") {
  rally::testing::RedisServer server(rally::testing::free_port(), "fanout-secret");
  Subscribed feed(settings_for(server.address(), server.password()));
  auto client = std::make_shared<RecordingChannel>();
  feed.fanout.add(client);
  feed.publish("before");
  REQUIRE(client->wait_for(1) == Texts{"[before]"});

  server.stop();
  REQUIRE(wait_until([&] { return !feed.fanout.connected(); }, 3000ms));
  server.start();
  REQUIRE(wait_until([&] { return feed.fanout.connected(); }, 3000ms));
  feed.publish("after");
  CHECK(client->wait_for(2) == Texts{"[before]", "[after]"});
}

TEST_CASE("a TopicFanout starts while Redis is down and stops promptly", "[topic_fanout]") {
  RedisSettings settings =
      settings_for({"127.0.0.1", static_cast<std::uint16_t>(rally::testing::free_port())});
  settings.reconnect_backoff = 30s;
  CountingTransform transform;
  std::optional<TopicFanout> fanout(std::in_place, settings, unique_channel(), transform.function());
  auto client = std::make_shared<RecordingChannel>();
  fanout->add(client);
  CHECK_FALSE(fanout->connected());

  const auto started = std::chrono::steady_clock::now();
  fanout.reset();
  CHECK(std::chrono::steady_clock::now() - started < 300ms);
  CHECK(client->sent().empty());
}

}  // namespace
}  // namespace rally::gateway::ws
