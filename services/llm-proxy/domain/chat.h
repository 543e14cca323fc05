// Provider-neutral chat completion types: what the llm-proxy asks of a provider and what comes back. The
// OpenAI and Anthropic codecs translate these to and from each wire format; the engine and the rpc layer
// never see a provider's JSON. Pure.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace rally::llm_proxy {

enum class ChatRole { kSystem, kUser, kAssistant };

struct ChatTurn {
  ChatRole role = ChatRole::kUser;
  std::string content;

  bool operator==(const ChatTurn&) const = default;
};

// One completion as sent upstream, after the catalog resolved the public model name.
struct ChatCompletion {
  std::string upstream_model;   // the provider's model id
  std::vector<ChatTurn> turns;  // oldest first; system turns anywhere (codecs hoist them where needed)
  std::optional<double> temperature;
  std::optional<double> top_p;
  std::uint32_t max_tokens = 1024;  // always set: the request's or the catalog's default
  std::vector<std::string> stop;
  bool json_mode = false;  // the reply must be a single JSON object
  bool stream = true;      // ask for Server-Sent Events (false: one JSON response)

  bool operator==(const ChatCompletion&) const = default;
};

enum class FinishReason { kStop, kLength, kContentFilter, kToolCalls };

struct TokenUsage {
  std::uint32_t prompt_tokens = 0;
  std::uint32_t completion_tokens = 0;

  bool operator==(const TokenUsage&) const = default;
};

}  // namespace rally::llm_proxy
