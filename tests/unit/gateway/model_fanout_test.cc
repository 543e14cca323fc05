// ModelFanout against the shared throwaway Redis: which client gets which update, rendered how often, and
// the order of a client's answers and updates while its set changes. Clients are recording channels standing
// in for WebSocket connections. A message here is "KEY ALIAS..." and renders as "ID<MESSAGE>".
#include "gateway/ws/model_fanout.h"

#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "services/common/redis_client.h"
#include "tests/support/process.h"
#include "tests/support/test_env.h"
#include "tests/unit/gateway/recording_channel.h"

namespace rally::gateway::ws {
namespace {

using common::RedisClient;
using common::RedisSettings;
using gateway::testing::RecordingChannel;
using rally::testing::wait_until;
using namespace std::chrono_literals;
using Texts = std::vector<std::string>;

RedisSettings settings_for(common::HostPort address) {
  RedisSettings settings;
  settings.address = std::move(address);
  settings.reconnect_backoff = 100ms;
  return settings;
}

// A channel of this run only, so parallel runs on the shared server never meet.
std::string unique_channel() {
  std::random_device device;
  return "rally_test:" + std::to_string(device()) + std::to_string(device()) + ":model_fanout";
}

// Decodes "KEY ALIAS..." and counts renders per id; "bad" is refused, "throw" throws, and a message whose key
// is "render-throws" throws when rendered.
struct CountingDecode {
  struct Counts {
    std::mutex mutex;
    int decodes = 0;
    std::map<std::string, int> renders;  // by "ID<MESSAGE>"
  };
  std::shared_ptr<Counts> counts = std::make_shared<Counts>();

  ModelFanout::Decode function() const {
    return [counts = counts](std::string_view payload) -> std::optional<ModelFanout::Update> {
      {
        std::lock_guard lock(counts->mutex);
        ++counts->decodes;
      }
      if (payload == "bad") return std::nullopt;
      if (payload == "throw") throw std::runtime_error("cannot decode");
      std::istringstream words{std::string(payload)};
      ModelFanout::Update update;
      words >> update.key;
      for (std::string alias; words >> alias;) update.aliases.push_back(alias);
      update.render = [counts, message = std::string(payload)](std::string_view id) {
        if (message.starts_with("render-throws")) throw std::runtime_error("cannot render");
        std::string text = std::string(id) + "<" + message + ">";
        std::lock_guard lock(counts->mutex);
        ++counts->renders[text];
        return text;
      };
      return update;
    };
  }

  int decodes() const {
    std::lock_guard lock(counts->mutex);
    return counts->decodes;
  }
  std::map<std::string, int> renders() const {
    std::lock_guard lock(counts->mutex);
    return counts->renders;
  }
};

struct Subscribed {
  Subscribed()
      : settings(settings_for(rally::testing::redis_address())),
        channel(unique_channel()),
        fanout(settings, channel, decode.function()),
        publisher(settings) {
    REQUIRE(wait_until([&] { return fanout.connected(); }, 3000ms));
  }

  void publish(std::string_view message) { REQUIRE(publisher.publish(channel, message) == 1); }

  // Adds a client watching `ids` (nothing when empty).
  std::shared_ptr<RecordingChannel> client(std::vector<std::string> ids) {
    auto client = std::make_shared<RecordingChannel>();
    fanout.add(client);
    if (!ids.empty()) watch(*client, SubscriptionRequest::Action::kSubscribe, std::move(ids));
    return client;
  }

  void watch(const WebSocketChannel& client, SubscriptionRequest::Action action,
             std::vector<std::string> ids) {
    REQUIRE(fanout.change_subscription(client, [&](ModelSubscription& subscription) {
      REQUIRE_FALSE(subscription.apply(SubscriptionRequest{action, std::move(ids)}));
    }));
  }

  RedisSettings settings;
  std::string channel;
  CountingDecode decode;
  ModelFanout fanout;
  RedisClient publisher;
};

TEST_CASE("a ModelFanout sends each update to the clients watching it, rendered once per id",
          "[model_fanout]") {
  Subscribed feed;
  CHECK(feed.fanout.channel() == feed.channel);
  auto by_alias = feed.client({"gpt-4o"});
  auto by_alias_too = feed.client({"gpt-4o", "o3"});
  auto by_key = feed.client({"openai/gpt-4o"});
  auto everything = feed.client({"*"});
  auto everything_and_alias = feed.client({"*", "gpt-4o"});
  auto claude = feed.client({"anthropic/claude"});
  auto nothing = feed.client({});
  CHECK(feed.fanout.client_count() == 7);

  feed.publish("openai/gpt-4o GPT-4o gpt-4o");
  feed.publish("anthropic/claude claude");
  feed.publish("openai/o3 o3");
  feed.publish("openai/gpt-4o GPT-4o gpt-4o");
  const std::string gpt = "<openai/gpt-4o GPT-4o gpt-4o>";
  REQUIRE(everything->wait_for(4) == Texts{"openai/gpt-4o" + gpt, "anthropic/claude<anthropic/claude claude>",
                                           "openai/o3<openai/o3 o3>", "openai/gpt-4o" + gpt});
  CHECK(by_alias->wait_for(2) == Texts{"gpt-4o" + gpt, "gpt-4o" + gpt});
  CHECK(by_alias_too->wait_for(3) == Texts{"gpt-4o" + gpt, "o3<openai/o3 o3>", "gpt-4o" + gpt});
  CHECK(by_key->wait_for(2) == Texts{"openai/gpt-4o" + gpt, "openai/gpt-4o" + gpt});
  CHECK(everything_and_alias->wait_for(4) == Texts{"gpt-4o" + gpt,
                                                   "anthropic/claude<anthropic/claude claude>",
                                                   "openai/o3<openai/o3 o3>", "gpt-4o" + gpt});
  CHECK(claude->wait_for(1) == Texts{"anthropic/claude<anthropic/claude claude>"});
  CHECK(nothing->sent().empty());

  // Each message decoded once and rendered once per id it went out under, however many clients got it.
  CHECK(feed.decode.decodes() == 4);
  CHECK(feed.decode.renders() == std::map<std::string, int>{{"openai/gpt-4o" + gpt, 2},
                                                            {"gpt-4o" + gpt, 2},
                                                            {"anthropic/claude<anthropic/claude claude>", 1},
                                                            {"openai/o3<openai/o3 o3>", 1},
                                                            {"o3<openai/o3 o3>", 1}});
  // Once the "*" clients are gone, nobody watches this one: nothing is rendered for it.
  feed.fanout.remove(*everything);
  feed.fanout.remove(*everything_and_alias);
  feed.publish("mistral/large large");
  feed.publish("anthropic/claude claude");
  REQUIRE(claude->wait_for(2).size() == 2);
  CHECK(feed.decode.decodes() == 6);
  const std::map<std::string, int> renders = feed.decode.renders();
  CHECK(renders.size() == 5);
  CHECK(renders.at("anthropic/claude<anthropic/claude claude>") == 2);
}

TEST_CASE("a ModelFanout drops closed, removed and released clients and stops sending to unsubscribed ones",
          "[model_fanout]") {
  Subscribed feed;
  auto kept = feed.client({"m"});
  auto closed = feed.client({"m"});
  auto removed = feed.client({"m"});
  auto released = feed.client({"m"});
  auto unsubscribed = feed.client({"m", "n"});
  feed.publish("m");
  REQUIRE(kept->wait_for(1) == Texts{"m<m>"});
  REQUIRE(released->wait_for(1) == Texts{"m<m>"});
  REQUIRE(unsubscribed->wait_for(1) == Texts{"m<m>"});

  closed->close();
  feed.fanout.remove(*removed);
  CHECK_FALSE(feed.fanout.change_subscription(*removed, [](ModelSubscription&) { FAIL("ran"); }));
  const std::weak_ptr<RecordingChannel> watch = released;
  released.reset();  // the fan-out must not be what keeps it alive
  CHECK(watch.expired());
  feed.watch(*unsubscribed, SubscriptionRequest::Action::kUnsubscribe, {"m"});
  CHECK(feed.fanout.client_count() == 4);  // the closed and the released one wait for the next message

  feed.publish("m");
  feed.publish("n");
  CHECK(kept->wait_for(2) == Texts{"m<m>", "m<m>"});
  CHECK(unsubscribed->wait_for(2) == Texts{"m<m>", "n<n>"});
  CHECK(wait_until([&] { return feed.fanout.client_count() == 2; }, 2000ms));
  CHECK(closed->sent() == Texts{"m<m>"});
  CHECK(removed->sent() == Texts{"m<m>"});
}

TEST_CASE("a ModelFanout skips messages its decode refuses or throws on, and renders that throw",
          "[model_fanout]") {
  Subscribed feed;
  auto client = feed.client({"*"});
  for (const std::string_view message : {"good", "bad", "throw", "render-throws", "after"}) {
    feed.publish(message);
  }
  CHECK(client->wait_for(2) == Texts{"good<good>", "after<after>"});
  CHECK(feed.decode.decodes() == 5);
  CHECK(feed.fanout.client_count() == 1);
}

TEST_CASE("a client's answers and updates arrive in the order its set changed", "[model_fanout]") {
  Subscribed feed;
  auto client = feed.client({});
  constexpr int kChanges = 200;
  constexpr int kMessages = 200;

  // The client switches between watching "m" and nothing while updates of "m" arrive; each change sends the
  // answer, as the route does, under the fan-out's ordering.
  std::thread changer([&] {
    for (int i = 0; i < kChanges; ++i) {
      const bool on = i % 2 == 0;
      feed.fanout.change_subscription(*client, [&](ModelSubscription& subscription) {
        (void)subscription.apply(SubscriptionRequest{
            on ? SubscriptionRequest::Action::kSubscribe : SubscriptionRequest::Action::kUnsubscribe, {"m"}});
        client->send(on ? "on" : "off");
      });
      std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
  });
  for (int i = 0; i < kMessages; ++i) feed.publish("m");
  changer.join();
  // Redis delivers in order: once the marker's update arrives, every earlier message went out.
  auto marker = feed.client({"end"});
  feed.publish("end");
  REQUIRE(marker->wait_for(1) == Texts{"end<end>"});

  const Texts sent = client->sent();
  bool watching = false;
  int answers = 0;
  for (const std::string& text : sent) {
    if (text == "on" || text == "off") {
      watching = text == "on";
      ++answers;
      continue;
    }
    INFO("an update after answer " << answers);
    CHECK(watching);
    CHECK(text == "m<m>");
  }
  CHECK(answers == kChanges);
}

TEST_CASE("a ModelFanout starts while Redis is down and stops promptly", "[model_fanout]") {
  RedisSettings settings =
      settings_for({"127.0.0.1", static_cast<std::uint16_t>(rally::testing::free_port())});
  settings.reconnect_backoff = 30s;
  CountingDecode decode;
  std::optional<ModelFanout> fanout(std::in_place, settings, unique_channel(), decode.function());
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
