#include "services/llm-proxy/simulator/reply_generator.h"

#include <algorithm>
#include <utility>

#include "services/llm-proxy/simulator/reply_rules.h"
#include "services/llm-proxy/simulator/text_generator.h"

namespace rally::llm_simulator {
namespace {

// Deltas are grouped by a random stream independent of the text's, so regrouping never changes the text.
constexpr std::uint64_t kDeltaStreamSalt = 0x5eed'de17'a5ULL;
constexpr std::uint32_t kMaxTokensPerDelta = 3;

void hash_field(std::uint64_t& state, std::string_view field) {
  state = fnv1a64(field, state);
  // A separator byte that cannot occur in JSON-decoded text keeps ("ab","c") apart from ("a","bc").
  state = fnv1a64(std::string_view("\0", 1), state);
}

std::string join(const std::vector<std::string_view>& tokens, std::size_t count) {
  std::string text;
  for (std::size_t i = 0; i < count && i < tokens.size(); ++i) text.append(tokens[i]);
  return text;
}

// The earliest occurrence of any stop sequence; among sequences found at the same place, the first listed.
std::optional<std::pair<std::size_t, std::string>> find_stop(std::string_view text,
                                                             const std::vector<std::string>& stops) {
  std::optional<std::pair<std::size_t, std::string>> earliest;
  for (const std::string& stop : stops) {
    if (stop.empty()) continue;
    const std::size_t at = text.find(stop);
    if (at != std::string_view::npos && (!earliest || at < earliest->first)) earliest.emplace(at, stop);
  }
  return earliest;
}

}  // namespace

std::uint64_t conversation_seed(const CompletionRequest& request) {
  std::uint64_t state = fnv1a64({});
  hash_field(state, request.model);
  for (const ChatMessage& message : request.messages) {
    hash_field(state, message.role);
    hash_field(state, message.text);
  }
  return mix64(state);
}

std::uint32_t estimate_prompt_tokens(const CompletionRequest& request) {
  std::size_t characters = 0;
  for (const ChatMessage& message : request.messages) characters += count_code_points(message.text);
  return static_cast<std::uint32_t>((characters + 3) / 4);
}

std::string system_and_user_text(const CompletionRequest& request) {
  std::string text;
  for (const ChatMessage& message : request.messages) {
    if (message.role != "system" && message.role != "developer" && message.role != "user") continue;
    if (!text.empty()) text += '\n';
    text += message.text;
  }
  return text;
}

std::string_view last_user_message(const CompletionRequest& request) {
  for (auto it = request.messages.rbegin(); it != request.messages.rend(); ++it) {
    if (it->role == "user") return it->text;
  }
  return {};
}

Reply generate_reply(const CompletionRequest& request, const ReplyRules& rules) {
  Reply reply;
  reply.prompt_tokens = estimate_prompt_tokens(request);
  const std::uint64_t seed = conversation_seed(request);

  std::string full;
  if (const ReplyRule* rule =
          rules.first_match(request.model, system_and_user_text(request), request.json_mode)) {
    reply.rule = rule->name;
    full = rule->reply.render(TemplateInputs{request.model, last_user_message(request), seed});
  } else {
    DeterministicRandom random(seed);
    const std::uint32_t length = random.between(kMinReplyTokens, kMaxReplyTokens);
    full = request.json_mode ? generate_json_object(random, length) : generate_prose(random, length);
  }

  // max_tokens first: a stop sequence only counts if it was generated before the budget ran out.
  const std::vector<std::string_view> full_tokens = tokenize(full);
  if (request.max_tokens && full_tokens.size() > *request.max_tokens) {
    reply.text = join(full_tokens, *request.max_tokens);
    reply.finish = FinishReason::kMaxTokens;
  } else {
    reply.text = std::move(full);
  }
  if (auto stop = find_stop(reply.text, request.stop_sequences)) {
    reply.text.resize(stop->first);
    reply.finish = FinishReason::kStopSequence;
    reply.stop_sequence = std::move(stop->second);
  }

  const std::vector<std::string_view> tokens = tokenize(reply.text);
  reply.completion_tokens = static_cast<std::uint32_t>(tokens.size());
  DeterministicRandom grouping(seed ^ kDeltaStreamSalt);
  for (std::size_t i = 0; i < tokens.size();) {
    const std::size_t take =
        std::min<std::size_t>(grouping.between(1, kMaxTokensPerDelta), tokens.size() - i);
    ReplyDelta delta;
    delta.tokens = static_cast<std::uint32_t>(take);
    for (std::size_t k = 0; k < take; ++k) delta.text.append(tokens[i + k]);
    reply.deltas.push_back(std::move(delta));
    i += take;
  }
  return reply;
}

}  // namespace rally::llm_simulator
