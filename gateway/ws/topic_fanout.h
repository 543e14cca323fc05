// Relays one Redis pub/sub channel to WebSocket clients: one subscription however many clients listen.
// Each message is turned into the text clients get once, by the fan-out's transform, then sent to every
// client added before it arrived. The live leaderboard uses it; any live feed fed by Redis can. It is a
// ModelFanout (model_fanout.h) whose clients all watch "*" and whose messages are about no model in
// particular: one mechanism for subscribing, dropping ended clients and skipping bad messages.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "gateway/ws/model_fanout.h"
#include "gateway/ws/websocket.h"

namespace rally::gateway::ws {

class TopicFanout {
 public:
  // The text sent to clients for one Redis message, or nullopt for a message that is not valid (it is
  // logged and skipped; a throwing transform counts as refusing). Runs on the Redis thread, once per message.
  using Transform = std::function<std::optional<std::string>(std::string_view payload)>;

  // Subscribes to `channel` at once; while Redis is unreachable it keeps retrying in the background.
  TopicFanout(const common::RedisSettings& redis, std::string channel, Transform transform);
  // Stops the subscription: once it returns, this fan-out sends nothing more.
  ~TopicFanout() = default;
  TopicFanout(const TopicFanout&) = delete;
  TopicFanout& operator=(const TopicFanout&) = delete;

  // The client gets every message that arrives from now on, in order, until remove() or until a send to it
  // fails (its connection ended). Only a weak reference is kept: the fan-out never keeps a connection's
  // state alive. Any thread.
  void add(const std::shared_ptr<WebSocketChannel>& client);
  void remove(const WebSocketChannel& client);

  const std::string& channel() const;
  // True while subscribed on a live Redis connection.
  bool connected() const;
  // The text of the last valid message, if any arrived yet.
  std::optional<std::string> latest() const;
  // Clients added and not yet dropped (ended ones are dropped when the next message goes out).
  std::size_t client_count() const;

 private:
  mutable std::mutex mutex_;  // guards latest_
  std::optional<std::string> latest_;
  ModelFanout fanout_;  // last: its subscription stops before latest_ goes away
};

}  // namespace rally::gateway::ws
