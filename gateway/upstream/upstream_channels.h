// The gRPC channels to the four LlamaRally services, created once at start and shared by every route
// (stubs are cheap to create from them and thread-safe to use).
#pragma once

#include <memory>
#include <string_view>
#include <vector>

#include "services/common/config.h"

namespace grpc {
class Channel;
}

namespace rally::gateway::upstream {

// The same keys and defaults the services listen on.
struct UpstreamAddresses {
  common::HostPort llm_proxy{"127.0.0.1", 50051};  // RALLY_LLM_PROXY_ADDR
  common::HostPort arena{"127.0.0.1", 50052};      // RALLY_ARENA_ADDR
  common::HostPort scoring{"127.0.0.1", 50053};    // RALLY_SCORING_ADDR
  common::HostPort critique{"127.0.0.1", 50054};   // RALLY_CRITIQUE_ADDR
};

struct NamedChannel {
  std::string_view name;  // "llm-proxy", "arena", "scoring", "critique": how /readyz and logs name it
  std::shared_ptr<grpc::Channel> channel;
};

class UpstreamChannels {
 public:
  // Channels connect in the background; creating them never blocks or fails.
  explicit UpstreamChannels(const UpstreamAddresses& addresses);

  const std::shared_ptr<grpc::Channel>& llm_proxy() const { return channels_[0].channel; }
  const std::shared_ptr<grpc::Channel>& arena() const { return channels_[1].channel; }
  const std::shared_ptr<grpc::Channel>& scoring() const { return channels_[2].channel; }
  const std::shared_ptr<grpc::Channel>& critique() const { return channels_[3].channel; }
  // All four, in the order above.
  const std::vector<NamedChannel>& all() const { return channels_; }

 private:
  std::vector<NamedChannel> channels_;
};

}  // namespace rally::gateway::upstream
