#include "gateway/ws/snapshot_first_channel.h"

#include <catch2/catch.hpp>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "tests/unit/gateway/recording_channel.h"

namespace rally::gateway::ws {
namespace {

using gateway::testing::RecordingChannel;
using Texts = std::vector<std::string>;

TEST_CASE("a SnapshotFirstChannel holds updates until the snapshot, then sends them after it",
          "[snapshot_first_channel]") {
  auto client = std::make_shared<RecordingChannel>();
  SnapshotFirstChannel channel(client);
  CHECK(channel.request_id() == "req_recording");

  CHECK(channel.send("u1"));
  CHECK(channel.send("u2"));
  CHECK(client->sent().empty());

  channel.release("snapshot");
  CHECK(client->sent() == Texts{"snapshot", "u1", "u2"});
  CHECK(channel.send("u3"));
  channel.release("ignored");  // only the first release counts
  CHECK(client->sent() == Texts{"snapshot", "u1", "u2", "u3"});

  client->close();
  CHECK_FALSE(channel.send("u4"));  // passes the connection's refusal on, so fan-out drops it
}

TEST_CASE("a SnapshotFirstChannel keeps the order when updates race the release",
          "[snapshot_first_channel]") {
  auto client = std::make_shared<RecordingChannel>();
  SnapshotFirstChannel channel(client);
  constexpr int kUpdates = 2000;
  std::thread updates([&] {
    for (int i = 0; i < kUpdates; ++i) {
      channel.send(std::to_string(i));
    }
  });
  channel.release("snapshot");
  updates.join();

  const Texts sent = client->sent();
  REQUIRE(sent.size() == kUpdates + 1);
  CHECK(sent.front() == "snapshot");
  for (int i = 0; i < kUpdates; ++i) {
    CHECK(sent[i + 1] == std::to_string(i));
  }
}

TEST_CASE("a SnapshotFirstChannel closes a client whose held updates grow too large",
          "[snapshot_first_channel]") {
  auto client = std::make_shared<RecordingChannel>();
  SnapshotFirstChannel channel(client);
  const std::string half(WebSocketChannel::kMaxQueuedBytes / 2, 'x');
  CHECK(channel.send(half));
  CHECK(channel.send(half));
  CHECK_FALSE(channel.send("one byte too many"));
  CHECK(client->closed());

  channel.release("snapshot");
  CHECK(client->sent().empty());
  CHECK_FALSE(channel.send("later"));
}

TEST_CASE("a SnapshotFirstChannel closed before its snapshot sends nothing", "[snapshot_first_channel]") {
  auto client = std::make_shared<RecordingChannel>();
  SnapshotFirstChannel channel(client);
  CHECK(channel.send("held"));
  channel.close();
  CHECK(client->closed());
  CHECK_FALSE(channel.send("after close"));
  channel.release("snapshot");
  CHECK(client->sent().empty());
}

}  // namespace
}  // namespace rally::gateway::ws
