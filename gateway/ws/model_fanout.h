// Relays one Redis pub/sub channel of per-model updates to the WebSocket clients watching each model: one
// subscription however many clients listen. Each message is decoded once (the fan-out's Decode), matched
// against every client's ModelSubscription (model_subscription.h), and rendered once per id it goes out
// under, however many clients get it. The live scores (routes/scoring_ws.h) use it directly; TopicFanout
// (the same text to everyone) is built on it.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "gateway/ws/model_subscription.h"
#include "gateway/ws/websocket.h"

namespace rally::common {
class RedisSubscriber;
struct RedisSettings;
}  // namespace rally::common

namespace rally::gateway::ws {

class ModelFanout {
 public:
  // One message, decoded: the model it is about, and its text for a client watching it under an id.
  struct Update {
    std::string key;                   // the model's canonical id; "*" watchers get it under this one
    std::vector<std::string> aliases;  // the model's other ids, in order of preference
    // The text for the clients that watch the model under `model_id` (the key or one of the aliases). Runs
    // on the Redis thread, at most once per id per message.
    std::function<std::string(std::string_view model_id)> render;
  };
  // The update a Redis message carries, or nullopt for one that is not valid (it is logged and skipped; a
  // throwing decode or render counts as refusing). Runs on the Redis thread, once per message.
  using Decode = std::function<std::optional<Update>(std::string_view payload)>;

  // Subscribes to `channel` at once; while Redis is unreachable it keeps retrying in the background.
  ModelFanout(const common::RedisSettings& redis, std::string channel, Decode decode);
  // Stops the subscription: once it returns, this fan-out sends nothing more.
  ~ModelFanout();
  ModelFanout(const ModelFanout&) = delete;
  ModelFanout& operator=(const ModelFanout&) = delete;

  // The client watches nothing until its subscription changes; from then on it gets every matching update
  // that arrives, in order, until remove() or until a send to it fails (its connection ended, or it read
  // too slowly and was closed). Only a weak reference is kept. Any thread.
  void add(const std::shared_ptr<WebSocketChannel>& client);
  void remove(const WebSocketChannel& client);

  // Runs `change` on the client's subscription, in one order with the updates sent to the client: an update
  // is matched against the set before or after the change, never during it, and what `change` sends the
  // client (the answer showing the new set) precedes every update matched against that set. Returns false,
  // running nothing, for a client not added. Any thread; `change` must not call the fan-out.
  bool change_subscription(const WebSocketChannel& client,
                           const std::function<void(ModelSubscription&)>& change);

  const std::string& channel() const { return channel_; }
  // True while subscribed on a live Redis connection.
  bool connected() const;
  // Clients added and not yet dropped (ended ones are dropped when the next message goes out).
  std::size_t client_count() const;

 private:
  struct Client;

  void deliver(std::string_view payload);

  const std::string channel_;
  const Decode decode_;
  mutable std::mutex mutex_;  // guards clients_ only; each Client has its own lock
  std::unordered_map<const WebSocketChannel*, std::shared_ptr<Client>> clients_;
  std::unique_ptr<common::RedisSubscriber> subscriber_;  // last: its thread stops before the rest goes away
};

}  // namespace rally::gateway::ws
