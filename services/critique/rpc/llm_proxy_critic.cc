#include "services/critique/rpc/llm_proxy_critic.h"

#include <grpcpp/channel.h>
#include <grpcpp/client_context.h>

#include "rally/v1/llm_proxy.grpc.pb.h"
#include "services/common/grpc_status.h"

namespace rally::critique {

// The critique is a short JSON object: a generous cap still bounds a runaway model.
constexpr std::uint32_t kMaxCritiqueTokens = 400;

struct LlmProxyCritic::Stub {
  std::unique_ptr<v1::LlmProxy::Stub> stub;
};

LlmProxyCritic::LlmProxyCritic(const std::shared_ptr<grpc::Channel>& llm_proxy, std::string model)
    : stub_(std::make_unique<Stub>(Stub{v1::LlmProxy::NewStub(llm_proxy)})), model_(std::move(model)) {}

LlmProxyCritic::~LlmProxyCritic() = default;

common::Result<CriticReply> LlmProxyCritic::ask(std::string_view instruction, std::string_view prompt,
                                                std::chrono::milliseconds timeout) {
  v1::CompleteRequest request;
  request.set_model(model_);
  v1::ChatMessage* system = request.add_messages();
  system->set_role(v1::CHAT_ROLE_SYSTEM);
  system->set_content(std::string(instruction));
  v1::ChatMessage* user = request.add_messages();
  user->set_role(v1::CHAT_ROLE_USER);
  user->set_content(std::string(prompt));
  request.set_temperature(0);
  request.set_max_tokens(kMaxCritiqueTokens);
  request.set_response_format(v1::RESPONSE_FORMAT_JSON_OBJECT);
  request.set_caller("critique");

  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + timeout);
  v1::CompleteResponse response;
  const auto started = std::chrono::steady_clock::now();
  const grpc::Status status = stub_->stub->Complete(&context, request, &response);
  if (!status.ok()) return common::from_grpc_status(status);
  return CriticReply{.text = response.text(),
                     .model = response.served_by().empty() ? response.model() : response.served_by(),
                     .simulated = response.simulated(),
                     .latency = std::chrono::duration_cast<std::chrono::milliseconds>(
                         std::chrono::steady_clock::now() - started)};
}

}  // namespace rally::critique
