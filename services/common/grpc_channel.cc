#include "services/common/grpc_channel.h"

#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>
#include <grpcpp/support/channel_arguments.h>

namespace rally::common {

std::shared_ptr<grpc::Channel> make_service_channel(const HostPort& address) {
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 250);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 2000);
  args.SetLoadBalancingPolicyName("round_robin");
  auto channel = grpc::CreateCustomChannel(address.to_string(), grpc::InsecureChannelCredentials(), args);
  channel->GetState(/*try_to_connect=*/true);  // connect now rather than on the first call
  return channel;
}

}  // namespace rally::common
