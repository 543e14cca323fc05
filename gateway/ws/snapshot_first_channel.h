// For live feeds that open with a snapshot: a client must never see an update older than its snapshot, so
// it is added to the fan-out before the snapshot is requested, through this channel, which holds the
// updates until the snapshot goes out and then sends them after it, in order.
//
//   auto client = std::make_shared<SnapshotFirstChannel>(channel);
//   fanout.add(client);                 // updates from now on are held...
//   ... fetch the snapshot, then:
//   client->release(snapshot_text);     // ...and sent after the snapshot; later ones go straight through
#pragma once

#include <cstddef>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "gateway/ws/websocket.h"

namespace rally::gateway::ws {

class SnapshotFirstChannel final : public WebSocketChannel {
 public:
  explicit SnapshotFirstChannel(std::shared_ptr<WebSocketChannel> client);

  // Before release(): holds the message and returns true, unless the held messages would exceed
  // kMaxQueuedBytes (the client is then closed, as the connection closes a consumer that slow). After:
  // the client's send().
  bool send(std::string text) override;
  void close() override;
  const std::string& request_id() const override { return client_->request_id(); }

  // Sends `first` (the snapshot, or an error in its place), then the held messages, and from then on passes
  // sends straight through. Any thread; calls after the first are ignored.
  void release(std::string first);

 private:
  const std::shared_ptr<WebSocketChannel> client_;
  // Held while sending too: a send racing release() must not overtake the messages held before it.
  std::mutex mutex_;
  bool released_ = false;
  bool closed_ = false;
  std::vector<std::string> held_;
  std::size_t held_bytes_ = 0;
};

}  // namespace rally::gateway::ws
