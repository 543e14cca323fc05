#include "gateway/ws/model_fanout.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <exception>
#include <utility>

#include "services/common/redis_client.h"

namespace rally::gateway::ws {

struct ModelFanout::Client {
  explicit Client(const std::shared_ptr<WebSocketChannel>& client) : channel(client) {}

  const std::weak_ptr<WebSocketChannel> channel;
  // Held while the subscription changes and while an update is matched and sent, so that the client sees
  // its answers and its updates in the order the set changed.
  std::mutex mutex;
  ModelSubscription subscription;
};

ModelFanout::ModelFanout(const common::RedisSettings& redis, std::string channel, Decode decode)
    : channel_(std::move(channel)), decode_(std::move(decode)) {
  subscriber_ = std::make_unique<common::RedisSubscriber>(
      redis, std::vector<std::string>{channel_}, false,
      [this](std::string_view, std::string_view payload) { deliver(payload); });
}

ModelFanout::~ModelFanout() = default;

void ModelFanout::add(const std::shared_ptr<WebSocketChannel>& client) {
  std::lock_guard lock(mutex_);
  // An entry left at the same address belonged to a connection that has ended: replacing it is right.
  clients_.insert_or_assign(client.get(), std::make_shared<Client>(client));
}

void ModelFanout::remove(const WebSocketChannel& client) {
  std::lock_guard lock(mutex_);
  clients_.erase(&client);
}

bool ModelFanout::change_subscription(const WebSocketChannel& client,
                                      const std::function<void(ModelSubscription&)>& change) {
  std::shared_ptr<Client> added;
  {
    std::lock_guard lock(mutex_);
    const auto found = clients_.find(&client);
    if (found == clients_.end()) return false;
    added = found->second;
  }
  std::lock_guard lock(added->mutex);
  change(added->subscription);
  return true;
}

bool ModelFanout::connected() const {
  return subscriber_->connected();
}

std::size_t ModelFanout::client_count() const {
  std::lock_guard lock(mutex_);
  return clients_.size();
}

void ModelFanout::deliver(std::string_view payload) {
  std::optional<Update> update;
  try {
    update = decode_(payload);
  } catch (const std::exception& e) {
    spdlog::warn("{}: skipped a message of {} bytes: {}", channel_, payload.size(), e.what());
    return;
  }
  if (!update) {
    spdlog::warn("{}: skipped a message of {} bytes that is not valid", channel_, payload.size());
    return;
  }

  // Copied under the lock and sent outside it, so sends never hold up add() and remove() on I/O threads.
  std::vector<std::shared_ptr<Client>> targets;
  {
    std::lock_guard lock(mutex_);
    std::erase_if(clients_, [](const auto& entry) { return entry.second->channel.expired(); });
    targets.reserve(clients_.size());
    for (const auto& [identity, client] : clients_) targets.push_back(client);
  }

  // The texts rendered so far, by the id they went out under: at most the key and each alias.
  std::vector<std::pair<std::string_view, std::string>> rendered;
  std::vector<std::pair<const WebSocketChannel*, const Client*>> ended;
  try {
    for (const auto& client : targets) {
      std::lock_guard lock(client->mutex);
      const std::optional<std::string_view> id = client->subscription.match(update->key, update->aliases);
      if (!id) continue;
      const std::shared_ptr<WebSocketChannel> channel = client->channel.lock();
      if (!channel) continue;  // dropped with the next message
      auto text =
          std::find_if(rendered.begin(), rendered.end(), [&](const auto& r) { return r.first == *id; });
      if (text == rendered.end()) text = rendered.insert(rendered.end(), {*id, update->render(*id)});
      if (!channel->send(text->second)) ended.emplace_back(channel.get(), client.get());
    }
  } catch (const std::exception& e) {
    spdlog::warn("{}: stopped sending a message of {} bytes about {}: {}", channel_, payload.size(),
                 update->key, e.what());
  }
  if (ended.empty()) return;
  std::lock_guard lock(mutex_);
  for (const auto& [identity, client] : ended) {
    const auto found = clients_.find(identity);
    // Only the entry that failed: by now the address may hold a new connection's.
    if (found != clients_.end() && found->second.get() == client) clients_.erase(found);
  }
}

}  // namespace rally::gateway::ws
