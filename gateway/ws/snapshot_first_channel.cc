#include "gateway/ws/snapshot_first_channel.h"

#include <spdlog/spdlog.h>

#include <utility>

#include "services/common/logging.h"

namespace rally::gateway::ws {

SnapshotFirstChannel::SnapshotFirstChannel(std::shared_ptr<WebSocketChannel> client)
    : client_(std::move(client)) {}

bool SnapshotFirstChannel::send(std::string text) {
  std::lock_guard lock(mutex_);
  if (released_) return client_->send(std::move(text));
  if (closed_) return false;
  if (held_bytes_ + text.size() > kMaxQueuedBytes) {
    common::ScopedRequestId scope(client_->request_id());
    spdlog::warn(
        "WebSocket client has no snapshot yet and over {} bytes of updates wait; closing the connection",
        kMaxQueuedBytes);
    closed_ = true;
    held_.clear();
    client_->close();
    return false;
  }
  held_bytes_ += text.size();
  held_.push_back(std::move(text));
  return true;
}

void SnapshotFirstChannel::close() {
  {
    std::lock_guard lock(mutex_);
    closed_ = true;
    held_.clear();
  }
  client_->close();
}

void SnapshotFirstChannel::release(std::string first) {
  std::lock_guard lock(mutex_);
  if (released_) return;
  released_ = true;
  if (closed_) return;  // released_ also makes later sends reach the closed client, which refuses them
  client_->send(std::move(first));
  for (std::string& held : held_) {
    client_->send(std::move(held));
  }
  held_.clear();
}

}  // namespace rally::gateway::ws
