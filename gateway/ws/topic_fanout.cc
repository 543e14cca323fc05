#include "gateway/ws/topic_fanout.h"

#include <utility>

#include "gateway/ws/model_subscription.h"

namespace rally::gateway::ws {

TopicFanout::TopicFanout(const common::RedisSettings& redis, std::string channel, Transform transform)
    : fanout_(
          redis, std::move(channel),
          [this,
           transform = std::move(transform)](std::string_view payload) -> std::optional<ModelFanout::Update> {
            std::optional<std::string> text = transform(payload);
            if (!text) return std::nullopt;
            {
              std::lock_guard lock(mutex_);
              latest_ = *text;
            }
            // About every model at once: "*" watchers get it under the key, rendered once.
            return ModelFanout::Update{
                std::string(kAllModels), {}, [text = std::move(*text)](std::string_view) { return text; }};
          }) {}

void TopicFanout::add(const std::shared_ptr<WebSocketChannel>& client) {
  fanout_.add(client);
  fanout_.change_subscription(*client, [](ModelSubscription& subscription) {
    subscription.apply({SubscriptionRequest::Action::kSubscribe, {std::string(kAllModels)}});
  });
}

void TopicFanout::remove(const WebSocketChannel& client) {
  fanout_.remove(client);
}

const std::string& TopicFanout::channel() const {
  return fanout_.channel();
}

bool TopicFanout::connected() const {
  return fanout_.connected();
}

std::optional<std::string> TopicFanout::latest() const {
  std::lock_guard lock(mutex_);
  return latest_;
}

std::size_t TopicFanout::client_count() const {
  return fanout_.client_count();
}

}  // namespace rally::gateway::ws
