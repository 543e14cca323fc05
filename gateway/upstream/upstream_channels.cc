#include "gateway/upstream/upstream_channels.h"

#include "services/common/grpc_channel.h"

namespace rally::gateway::upstream {
UpstreamChannels::UpstreamChannels(const UpstreamAddresses& addresses)
    : channels_{
          {"llm-proxy", common::make_service_channel(addresses.llm_proxy)},
          {"arena", common::make_service_channel(addresses.arena)},
          {"scoring", common::make_service_channel(addresses.scoring)},
          {"critique", common::make_service_channel(addresses.critique)},
      } {}

}  // namespace rally::gateway::upstream
