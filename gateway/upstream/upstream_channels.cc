#include "gateway/upstream/upstream_channels.h"

#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>
#include <grpcpp/support/channel_arguments.h>

namespace rally::gateway::upstream {
namespace {

std::shared_ptr<grpc::Channel> make_channel(const common::HostPort& address) {
  grpc::ChannelArguments args;
  // gRPC's reconnect backoff grows to 120 s by default, and a channel in backoff fails every call at once:
  // a restarted service would look down that long. Services are on the local network, so retry briskly.
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 250);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 2000);
  auto channel = grpc::CreateCustomChannel(address.to_string(), grpc::InsecureChannelCredentials(), args);
  channel->GetState(/*try_to_connect=*/true);  // connect now rather than on the first request
  return channel;
}

}  // namespace

UpstreamChannels::UpstreamChannels(const UpstreamAddresses& addresses)
    : channels_{
          {"llm-proxy", make_channel(addresses.llm_proxy)},
          {"arena", make_channel(addresses.arena)},
          {"scoring", make_channel(addresses.scoring)},
          {"critique", make_channel(addresses.critique)},
      } {}

}  // namespace rally::gateway::upstream
