// CriticLlm over the llm-proxy's Complete RPC (JSON mode, temperature 0, caller "critique").
#pragma once

#include <memory>
#include <string>

#include "services/critique/engine/critic_llm.h"

namespace grpc {
class Channel;
}

namespace rally::critique {

class LlmProxyCritic final : public CriticLlm {
 public:
  LlmProxyCritic(const std::shared_ptr<grpc::Channel>& llm_proxy, std::string model);
  ~LlmProxyCritic() override;

  common::Result<CriticReply> ask(std::string_view instruction, std::string_view prompt,
                                  std::chrono::milliseconds timeout) override;

 private:
  struct Stub;
  std::unique_ptr<Stub> stub_;
  const std::string model_;
};

}  // namespace rally::critique
