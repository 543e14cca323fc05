#include "services/llm-proxy/domain/completion_plan.h"

#include <cmath>
#include <set>

#include "services/common/utf8.h"

namespace rally::llm_proxy {
namespace {

common::Error invalid_field(std::string_view field, std::string message) {
  return common::Error(common::ErrorCode::kInvalidRequest, std::move(message),
                       {{"field", std::string(field)}});
}

std::string join(const std::vector<std::string>& names) {
  std::string joined;
  for (const std::string& name : names) {
    if (!joined.empty()) joined += ", ";
    joined += name;
  }
  return joined;
}

std::size_t count_code_points(std::string_view text) {
  std::size_t count = 0;
  for (const char c : text) {
    // Every byte that is not a UTF-8 continuation byte starts a code point.
    if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) ++count;
  }
  return count;
}

}  // namespace

common::Result<const CatalogModel*> validate_completion(const Catalog& catalog, const CompletionInput& input,
                                                        const CompletionLimits& limits) {
  const CatalogModel* model = catalog.find(input.model);
  if (model == nullptr || !model->enabled) {
    const std::string available = join(catalog.enabled_names());
    std::string message =
        input.model.empty() ? std::string("A model is required") : "Unknown model '" + input.model + "'";
    message += ". Available models: " + available;
    return common::Error(common::ErrorCode::kInvalidRequest, std::move(message),
                         {{"field", "model"}, {"model", input.model}, {"available_models", available}});
  }
  if (input.turns.empty()) return invalid_field("messages", "At least one message is required");
  if (input.turns.size() > limits.max_turns) {
    return invalid_field("messages", "At most " + std::to_string(limits.max_turns) + " messages are allowed");
  }
  bool has_user_turn = false;
  std::size_t prompt_bytes = 0;
  for (const ChatTurn& turn : input.turns) {
    if (!common::is_valid_utf8(turn.content)) return invalid_field("messages", "Message text must be UTF-8");
    has_user_turn = has_user_turn || turn.role == ChatRole::kUser;
    prompt_bytes += turn.content.size();
  }
  if (!has_user_turn) return invalid_field("messages", "At least one user message is required");
  if (prompt_bytes > limits.max_prompt_bytes) {
    return invalid_field("messages",
                         "The messages exceed " + std::to_string(limits.max_prompt_bytes) + " bytes");
  }
  if (input.temperature && !(*input.temperature >= 0.0 && *input.temperature <= 2.0)) {
    return invalid_field("temperature", "temperature must be between 0 and 2");
  }
  if (input.top_p && !(*input.top_p >= 0.0 && *input.top_p <= 1.0)) {
    return invalid_field("top_p", "top_p must be between 0 and 1");
  }
  if (input.max_tokens && (*input.max_tokens == 0 || *input.max_tokens > limits.max_tokens)) {
    return invalid_field("max_tokens",
                         "max_tokens must be between 1 and " + std::to_string(limits.max_tokens));
  }
  if (input.stop.size() > limits.max_stop_sequences) {
    return invalid_field(
        "stop", "At most " + std::to_string(limits.max_stop_sequences) + " stop sequences are allowed");
  }
  for (const std::string& stop : input.stop) {
    if (stop.empty()) return invalid_field("stop", "Stop sequences must not be empty");
    if (!common::is_valid_utf8(stop)) return invalid_field("stop", "Stop sequences must be UTF-8");
  }
  return model;
}

std::vector<const CatalogModel*> candidate_models(
    const Catalog& catalog, const CatalogModel& primary, bool allow_fallbacks,
    const std::function<bool(const CatalogModel&)>& is_cooled_down) {
  std::vector<const CatalogModel*> candidates;
  std::set<std::string_view> seen;
  const auto consider = [&](const CatalogModel* model) {
    if (model == nullptr || !model->enabled || !seen.insert(model->name).second) return;
    if (is_cooled_down && is_cooled_down(*model)) return;
    candidates.push_back(model);
  };
  consider(&primary);
  if (allow_fallbacks) {
    for (const std::string& fallback : primary.fallbacks) consider(catalog.find(fallback));
  }
  return candidates;
}

ChatCompletion upstream_completion(const CompletionInput& input, const CatalogModel& model) {
  ChatCompletion completion;
  completion.upstream_model = model.upstream_model;
  completion.turns = input.turns;
  completion.temperature = input.temperature;
  completion.top_p = input.top_p;
  completion.max_tokens = input.max_tokens.value_or(model.default_max_tokens);
  completion.stop = input.stop;
  completion.json_mode = input.json_mode;
  completion.stream = input.stream;
  return completion;
}

NextStep next_step(const RetryPolicy& policy, FailureKind failure, bool output_sent,
                   std::optional<std::chrono::milliseconds> retry_after, const AttemptState& state,
                   std::mt19937_64& random) {
  if (output_sent || failure == FailureKind::kCancelled) return GiveUp{};
  if (const auto delay = policy.delay_before(state.attempt_on_model + 1, failure, retry_after, random)) {
    if (!state.time_left || *delay < *state.time_left) return RetrySameModel{*delay};
  }
  if (state.more_models) return TryNextModel{};
  return GiveUp{};
}

std::uint32_t estimate_tokens(std::string_view text) {
  return static_cast<std::uint32_t>((count_code_points(text) + 3) / 4);
}

std::uint32_t estimate_prompt_tokens(const std::vector<ChatTurn>& turns) {
  std::uint32_t tokens = 3;
  for (const ChatTurn& turn : turns) tokens += 4 + estimate_tokens(turn.content);
  return tokens;
}

std::optional<double> tokens_per_second(std::uint32_t completion_tokens,
                                        std::optional<std::chrono::microseconds> time_to_first_token,
                                        std::chrono::microseconds total) {
  // Streamed: generation runs from the first token to the end. Whole responses: the only measure is the
  // whole call.
  const std::chrono::microseconds generation = time_to_first_token ? total - *time_to_first_token : total;
  if (completion_tokens < 2 || generation.count() <= 0) return std::nullopt;
  return static_cast<double>(completion_tokens) / (static_cast<double>(generation.count()) / 1e6);
}

}  // namespace rally::llm_proxy
