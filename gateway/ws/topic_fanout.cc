#include "gateway/ws/topic_fanout.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <exception>
#include <utility>

#include "services/common/redis_client.h"

namespace rally::gateway::ws {

TopicFanout::TopicFanout(const common::RedisSettings& redis, std::string channel, Transform transform)
    : channel_(std::move(channel)), transform_(std::move(transform)) {
  subscriber_ = std::make_unique<common::RedisSubscriber>(
      redis, std::vector<std::string>{channel_}, false,
      [this](std::string_view, std::string_view payload) { deliver(payload); });
}

TopicFanout::~TopicFanout() = default;

void TopicFanout::add(const std::shared_ptr<WebSocketChannel>& client) {
  std::lock_guard lock(mutex_);
  clients_.push_back({client.get(), client});
}

void TopicFanout::remove(const WebSocketChannel& client) {
  std::lock_guard lock(mutex_);
  std::erase_if(clients_, [&](const Client& added) { return added.identity == &client; });
}

bool TopicFanout::connected() const {
  return subscriber_->connected();
}

std::optional<std::string> TopicFanout::latest() const {
  std::lock_guard lock(mutex_);
  return latest_;
}

std::size_t TopicFanout::client_count() const {
  std::lock_guard lock(mutex_);
  return clients_.size();
}

void TopicFanout::deliver(std::string_view payload) {
  std::optional<std::string> text;
  try {
    text = transform_(payload);
  } catch (const std::exception& e) {
    spdlog::warn("{}: skipped a message of {} bytes: {}", channel_, payload.size(), e.what());
    return;
  }
  if (!text) {
    spdlog::warn("{}: skipped a message of {} bytes that is not valid", channel_, payload.size());
    return;
  }

  // Copied under the lock and sent outside it, so sends never hold up add() and remove() on I/O threads.
  std::vector<std::shared_ptr<WebSocketChannel>> targets;
  {
    std::lock_guard lock(mutex_);
    latest_ = *text;
    std::erase_if(clients_, [](const Client& client) { return client.channel.expired(); });
    targets.reserve(clients_.size());
    for (const Client& client : clients_) {
      if (auto channel = client.channel.lock()) targets.push_back(std::move(channel));
    }
  }
  std::vector<const WebSocketChannel*> ended;
  for (const auto& target : targets) {
    if (!target->send(*text)) ended.push_back(target.get());
  }
  if (ended.empty()) return;
  std::lock_guard lock(mutex_);
  std::erase_if(clients_, [&](const Client& client) {
    return std::find(ended.begin(), ended.end(), client.identity) != ended.end();
  });
}

}  // namespace rally::gateway::ws
