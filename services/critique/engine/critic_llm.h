// The LLM the oracle worker asks: an interface, so that the worker's logic does not depend on gRPC (the
// service implements it with the llm-proxy's Complete, rpc/llm_proxy_critic.h).
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "services/common/errors.h"

namespace rally::critique {

struct CriticReply {
  std::string text;
  std::string model;
  bool simulated = false;  // the LLM simulator answered, not a real provider
  std::chrono::milliseconds latency{0};
};

class CriticLlm {
 public:
  virtual ~CriticLlm() = default;
  // Asks for a critique of `prompt` with `instruction` as the system message, in JSON mode.
  virtual common::Result<CriticReply> ask(std::string_view instruction, std::string_view prompt,
                                          std::chrono::milliseconds timeout) = 0;
};

}  // namespace rally::critique
