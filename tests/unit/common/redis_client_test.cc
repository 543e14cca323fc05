// RedisClient and RedisSubscriber against real Redis servers: the shared throwaway server for commands and
// pub/sub, and servers of the test's own for restarts, SCRIPT FLUSH, CLIENT PAUSE and passwords.
#include "services/common/redis_client.h"

#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <condition_variable>
#include <csignal>
#include <cstdint>
#include <filesystem>
#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "tests/support/expect.h"
#include "tests/support/process.h"
#include "tests/support/servers.h"
#include "tests/support/test_env.h"

namespace {

using rally::testing::message_of;
using rally::testing::SilentListener;

using rally::testing::RedisServer;

using Catch::Matchers::Contains;
using rally::common::ConfigSource;
using rally::common::HostPort;
using rally::common::RedisClient;
using rally::common::RedisReply;
using rally::common::RedisScript;
using rally::common::RedisSettings;
using rally::common::RedisSubscriber;
using rally::common::RedisUnavailable;
using rally::testing::wait_until;
using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;
using Type = RedisReply::Type;

RedisSettings settings_for(HostPort address, std::string password = "") {
  RedisSettings settings;
  settings.address = std::move(address);
  settings.password = std::move(password);
  settings.connect_timeout = milliseconds(500);
  settings.command_timeout = milliseconds(500);
  settings.reconnect_backoff = milliseconds(100);
  return settings;
}

// Keys and channels of this run only, so parallel runs on the shared server never meet.
std::string unique_prefix() {
  std::random_device device;
  return "rally_test:" + std::to_string(device()) + std::to_string(device()) + ":";
}

// Collects what a subscriber delivers on its thread, for the test's thread to wait on.
class Inbox {
 public:
  RedisSubscriber::Handler handler() {
    return [this](std::string_view channel, std::string_view message) {
      std::lock_guard lock(mutex_);
      messages_.emplace_back(channel, message);
      arrived_.notify_all();
    };
  }

  // The first `count` messages, or fewer if they do not arrive within two seconds.
  std::vector<std::pair<std::string, std::string>> wait_for(std::size_t count) {
    std::unique_lock lock(mutex_);
    arrived_.wait_for(lock, milliseconds(2000), [&] { return messages_.size() >= count; });
    return messages_;
  }

 private:
  std::mutex mutex_;
  std::condition_variable arrived_;
  std::vector<std::pair<std::string, std::string>> messages_;
};

using Messages = std::vector<std::pair<std::string, std::string>>;

}  // namespace

TEST_CASE("RedisClient round-trips commands with binary-safe arguments and replies", "[redis]") {
  RedisClient client(settings_for(rally::testing::redis_address()));
  const std::string prefix = unique_prefix();
  const std::string key = prefix + std::string("bin\0key", 7);
  const std::string value("a\0b\r\n\xff$3\r\n", 10);

  CHECK(client.ping());
  const RedisReply set = client.command({"SET", key, value, "PX", "60000"});
  CHECK(set.type == Type::kStatus);
  CHECK(set.str == "OK");
  const RedisReply get = client.command({"GET", key});
  CHECK(get.type == Type::kString);
  CHECK(get.str == value);

  CHECK(client.command({"GET", prefix + "missing"}).type == Type::kNil);
  const RedisReply incremented = client.command({"INCRBY", prefix + "counter", "41"});
  CHECK(incremented.type == Type::kInteger);
  CHECK(incremented.integer == 41);

  client.command({"RPUSH", prefix + "list", "one", std::string("t\0o", 3)});
  const RedisReply list = client.command({"LRANGE", prefix + "list", "0", "-1"});
  REQUIRE(list.type == Type::kArray);
  REQUIRE(list.elements.size() == 2);
  CHECK(list.elements[0].str == "one");
  CHECK(list.elements[1].str == std::string("t\0o", 3));

  CHECK(client.command({"DEL", key, prefix + "counter", prefix + "list"}).integer == 3);
}

TEST_CASE("RedisClient returns error replies instead of throwing them", "[redis]") {
  RedisClient client(settings_for(rally::testing::redis_address()));
  const std::string key = unique_prefix() + "text";
  client.command({"SET", key, "not a number", "PX", "60000"});

  const RedisReply wrong_type = client.command({"INCR", key});
  CHECK(wrong_type.is_error());
  CHECK_THAT(wrong_type.str, Contains("not an integer"));
  const RedisReply unknown = client.command({"NO-SUCH-COMMAND"});
  CHECK(unknown.is_error());
  CHECK_THAT(unknown.str, Contains("unknown command"));

  CHECK(client.ping());  // an error reply leaves the connection usable
  client.command({"DEL", key});
}

TEST_CASE("RedisClient runs scripts by SHA-1 and reloads them after SCRIPT FLUSH", "[redis]") {
  RedisServer server(rally::testing::free_port(),
                     "script-secret");  // SCRIPT FLUSH is server-wide: keep it off the shared server
  RedisClient client(settings_for(server.address(), server.password()));
  const RedisScript script("return {KEYS[1], ARGV[1], redis.call('INCRBY', KEYS[1], ARGV[1])}");

  const RedisReply loaded = client.command({"SCRIPT", "LOAD", script.source()});
  CHECK(loaded.str == script.sha1());
  CHECK(client.command({"SCRIPT", "FLUSH"}).str == "OK");

  const auto cached = [&] {
    return client.command({"SCRIPT", "EXISTS", script.sha1()}).elements.at(0).integer;
  };
  for (const long long expected : {5, 10}) {
    const RedisReply reply = client.eval(script, {"counter"}, {"5"});
    REQUIRE(reply.type == Type::kArray);
    REQUIRE(reply.elements.size() == 3);
    CHECK(reply.elements[0].str == "counter");
    CHECK(reply.elements[1].str == "5");
    CHECK(reply.elements[2].type == Type::kInteger);
    CHECK(reply.elements[2].integer == expected);
    CHECK(cached() == 1);  // the NOSCRIPT fallback left it cached for the next EVALSHA
  }

  client.command({"SET", "text", "abc"});
  const RedisReply failed = client.eval(script, {"text"}, {"1"});
  CHECK(failed.is_error());
  CHECK_THAT(failed.str, Contains("not an integer"));
}

TEST_CASE("RedisSubscriber delivers published messages for channels and patterns", "[redis]") {
  const RedisSettings settings = settings_for(rally::testing::redis_address());
  const std::string prefix = unique_prefix();
  RedisClient publisher(settings);

  Inbox channels;
  Inbox patterns;
  // A duplicate must not keep the subscriber from counting itself subscribed.
  RedisSubscriber channel_subscriber(settings, {prefix + "votes", prefix + "scores", prefix + "votes"}, false,
                                     channels.handler());
  RedisSubscriber pattern_subscriber(settings, {prefix + "battle.*"}, true, patterns.handler());
  REQUIRE(wait_until([&] { return channel_subscriber.connected() && pattern_subscriber.connected(); },
                     milliseconds(3000)));

  const std::string binary("vote\0{\"id\":1}", 13);
  CHECK(publisher.publish(prefix + "votes", binary) == 1);
  CHECK(publisher.publish(prefix + "scores", "s") == 1);
  CHECK(publisher.publish(prefix + "battle.42", "b") == 1);
  CHECK(publisher.publish(prefix + "nobody", "n") == 0);

  CHECK(channels.wait_for(2) == Messages{{prefix + "votes", binary}, {prefix + "scores", "s"}});
  CHECK(patterns.wait_for(1) == Messages{{prefix + "battle.42", "b"}});
}

TEST_CASE("RedisSubscriber stops promptly, connected or not", "[redis]") {
  RedisSettings settings = settings_for(rally::testing::redis_address());
  settings.reconnect_backoff = milliseconds(30000);
  Inbox inbox;

  std::optional<RedisSubscriber> live(
      std::in_place, settings, std::vector<std::string>{unique_prefix() + "c"}, false, inbox.handler());
  REQUIRE(wait_until([&] { return live->connected(); }, milliseconds(3000)));
  auto started = Clock::now();
  live.reset();
  CHECK(Clock::now() - started < milliseconds(300));

  // Nothing listens here, so this one is waiting out its 30 s backoff when it is destroyed.
  settings.address = {"127.0.0.1", static_cast<std::uint16_t>(rally::testing::free_port())};
  std::optional<RedisSubscriber> waiting(std::in_place, settings, std::vector<std::string>{"c"}, false,
                                         inbox.handler());
  std::this_thread::sleep_for(milliseconds(100));
  CHECK_FALSE(waiting->connected());
  started = Clock::now();
  waiting.reset();
  CHECK(Clock::now() - started < milliseconds(300));
}

TEST_CASE("RedisClient and RedisSubscriber survive a server restart", "[redis][restart]") {
  RedisServer server(rally::testing::free_port(), "restart-secret");
  const RedisSettings settings = settings_for(server.address(), server.password());
  RedisClient client(settings);
  Inbox inbox;
  RedisSubscriber subscriber(settings, {"events"}, false, inbox.handler());
  REQUIRE(wait_until([&] { return subscriber.connected(); }, milliseconds(3000)));
  REQUIRE(client.publish("events", "before") == 1);

  server.stop();
  REQUIRE(wait_until([&] { return !subscriber.connected(); }, milliseconds(3000)));

  // Down: every call fails at once, connecting at most once per reconnect_backoff.
  const auto started = Clock::now();
  for (int i = 0; i < 20; ++i) {
    CHECK_THROWS_AS(client.command({"GET", "k"}), RedisUnavailable);
  }
  CHECK(Clock::now() - started < milliseconds(300));
  CHECK_THAT(message_of<RedisUnavailable>([&] {
               client.command({"GET", "k"});
             }),
             Contains("next connection attempt in"));
  CHECK_FALSE(client.ping());

  server.start();
  CHECK(wait_until([&] { return client.ping(); }, milliseconds(3000)));
  REQUIRE(wait_until([&] { return subscriber.connected(); }, milliseconds(3000)));
  CHECK(client.publish("events", "after") == 1);
  CHECK(inbox.wait_for(2) == Messages{{"events", "before"}, {"events", "after"}});

  // A restart between two calls is invisible: the dead idle connection is replaced before it is used.
  server.stop();
  server.start();
  CHECK(client.command({"ECHO", "still here"}).str == "still here");
}

TEST_CASE("RedisClient authenticates with the configured password", "[redis]") {
  RedisServer server(rally::testing::free_port(), "auth-secret");

  RedisClient authenticated(settings_for(server.address(), server.password()));
  CHECK(authenticated.ping());

  RedisClient anonymous(settings_for(server.address()));
  const RedisReply refused = anonymous.command({"GET", "k"});
  CHECK(refused.is_error());
  CHECK_THAT(refused.str, Contains("NOAUTH"));

  RedisClient wrong(settings_for(server.address(), "not-the-password"));
  CHECK_THAT(message_of<RedisUnavailable>([&] { wrong.command({"PING"}); }), Contains("refused AUTH"));
  CHECK_FALSE(wrong.ping());
}

TEST_CASE("RedisClient commands time out instead of hanging", "[redis]") {
  SECTION("a server that accepts connections but never answers") {
    SilentListener silent;
    RedisSettings settings = settings_for(silent.address());
    settings.command_timeout = milliseconds(200);
    RedisClient client(settings);
    const auto started = Clock::now();
    CHECK_THAT(message_of<RedisUnavailable>([&] { client.command({"PING"}); }),
               Contains("did not answer PING within 200ms"));
    const auto waited = Clock::now() - started;
    CHECK(waited >= milliseconds(150));  // it did wait, rather than fail at once
    CHECK(waited < milliseconds(1500));
  }

  SECTION("a server that stalls, whose late reply must not be taken for the next command's") {
    RedisServer server(rally::testing::free_port(), "pause-secret");
    RedisSettings settings = settings_for(server.address(), server.password());
    settings.command_timeout = milliseconds(5000);
    RedisClient patient(settings);
    settings.command_timeout = milliseconds(100);
    RedisClient impatient(settings);
    REQUIRE(impatient.ping());

    // From its reply on, the server holds every client's commands for 600 ms, then answers them all.
    REQUIRE(patient.command({"CLIENT", "PAUSE", "600", "ALL"}).str == "OK");
    const auto started = Clock::now();
    CHECK_THAT(message_of<RedisUnavailable>([&] {
                 impatient.command({"ECHO", "first"});
               }),
               Contains("did not answer ECHO within 100ms"));
    CHECK(Clock::now() - started < milliseconds(400));

    CHECK(patient.command({"ECHO", "resumed"}).str == "resumed");  // returns once the pause is over
    CHECK(impatient.command({"ECHO", "second"}).str == "second");
  }
}

TEST_CASE("RedisSettings::from reads and validates RALLY_REDIS_*", "[redis]") {
  const auto from = [](ConfigSource::Values env) {
    return RedisSettings::from(ConfigSource::from_values({}, std::move(env)));
  };

  const RedisSettings defaults = from({});
  CHECK(defaults.address == RedisSettings{}.address);
  CHECK(defaults.password.empty());

  const RedisSettings settings = from({{"RALLY_REDIS_ADDR", "redis.internal:6380"},
                                       {"RALLY_REDIS_PASSWORD", "s3cret"},
                                       {"RALLY_REDIS_CONNECT_TIMEOUT", "2s"},
                                       {"RALLY_REDIS_COMMAND_TIMEOUT", "150ms"},
                                       {"RALLY_REDIS_RECONNECT_BACKOFF", "1s"}});
  CHECK(settings.address == HostPort{"redis.internal", 6380});
  CHECK(settings.password == "s3cret");
  CHECK(settings.connect_timeout == milliseconds(2000));
  CHECK(settings.command_timeout == milliseconds(150));
  CHECK(settings.reconnect_backoff == milliseconds(1000));

  const auto rejected_key = [&](std::string key, std::string value) {
    return rally::testing::rejected_config_key([&] { from({{key, value}}); });
  };
  CHECK(rejected_key("RALLY_REDIS_ADDR", "redis") == "RALLY_REDIS_ADDR");
  CHECK(rejected_key("RALLY_REDIS_COMMAND_TIMEOUT", "0ms") == "RALLY_REDIS_COMMAND_TIMEOUT");
  CHECK(rejected_key("RALLY_REDIS_RECONNECT_BACKOFF", "2m") == "RALLY_REDIS_RECONNECT_BACKOFF");
}

TEST_CASE("RedisScript names a script by the SHA-1 of its source", "[redis]") {
  const RedisScript script("return 1");
  CHECK(script.source() == "return 1");
  CHECK(script.sha1() == "e0e1f9fabfc9d4800c877a703b823ac0578ff8db");
}
