// What a completion request asks for and the decisions taken while serving it: validation against the
// catalog, the models to try (the requested one, then its fallbacks), what to do after a failed attempt,
// and the accounting numbers (estimated tokens, tokens per second). Pure: the engine
// (engine/completion_engine.h) does the I/O and asks these functions what to do.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "services/common/errors.h"
#include "services/llm-proxy/domain/catalog.h"
#include "services/llm-proxy/domain/chat.h"
#include "services/llm-proxy/domain/retry_policy.h"

namespace rally::llm_proxy {

// A completion as the caller asked for it, before the catalog resolved anything.
struct CompletionInput {
  std::string model;  // public catalog name
  std::vector<ChatTurn> turns;
  std::optional<double> temperature;
  std::optional<double> top_p;
  std::optional<std::uint32_t> max_tokens;
  std::vector<std::string> stop;
  bool json_mode = false;
  bool stream = false;
  bool allow_fallbacks = true;
  std::string caller;      // "gateway", "arena", ...: accounting only
  std::string request_id;  // the gateway's, for logs and usage rows
};

// Limits a request must respect; beyond them it is INVALID_REQUEST, before anything is sent upstream.
struct CompletionLimits {
  std::size_t max_turns = 1000;
  std::size_t max_prompt_bytes = 1 << 20;
  std::uint32_t max_tokens = 64 * 1024;
  std::size_t max_stop_sequences = 4;  // OpenAI's limit, the strictest of the providers
};

// Checks the request and resolves its model: unknown or disabled models are INVALID_REQUEST with the
// enabled models in the message and in details["available_models"] (comma separated); bad parameters are
// INVALID_REQUEST naming the field in details["field"].
common::Result<const CatalogModel*> validate_completion(const Catalog& catalog, const CompletionInput& input,
                                                        const CompletionLimits& limits = {});

// The models to try in order: `primary`, then (when allowed) its enabled fallbacks that exist in the
// catalog, each once. `is_cooled_down` removes models that are cooling down; if that removes every
// candidate, the list is empty (the caller fails fast rather than hammering a failing provider).
std::vector<const CatalogModel*> candidate_models(
    const Catalog& catalog, const CatalogModel& primary, bool allow_fallbacks,
    const std::function<bool(const CatalogModel&)>& is_cooled_down);

// The ChatCompletion sent upstream for `model`: its upstream id, the catalog's default max_tokens when the
// request set none.
ChatCompletion upstream_completion(const CompletionInput& input, const CatalogModel& model);

// What to do after an attempt failed.
struct RetrySameModel {
  std::chrono::milliseconds delay;
};
struct TryNextModel {};
struct GiveUp {};
using NextStep = std::variant<RetrySameModel, TryNextModel, GiveUp>;

struct AttemptState {
  std::uint32_t attempt_on_model = 1;  // attempts made on the current model so far (1 after the first)
  bool more_models = false;            // a fallback remains after the current model
  // Time left before the caller's deadline; nullopt when there is none.
  std::optional<std::chrono::milliseconds> time_left;
};

// Never retries once output was sent or the caller cancelled; retries the same model per `policy` for
// retryable failures (a backoff that would overrun the deadline is not taken); otherwise moves on to the
// next model if any, since a fallback may be served by another provider.
NextStep next_step(const RetryPolicy& policy, FailureKind failure, bool output_sent,
                   std::optional<std::chrono::milliseconds> retry_after, const AttemptState& state,
                   std::mt19937_64& random);

// Token estimate for text a provider did not count: ceil(code points / 4), the usual rule of thumb.
std::uint32_t estimate_tokens(std::string_view text);
// Prompt estimate: every turn's text plus 4 tokens of per-message framing, plus 3 for the reply's priming
// (OpenAI's published accounting for chat formats).
std::uint32_t estimate_prompt_tokens(const std::vector<ChatTurn>& turns);

// Completion tokens per second of generation (from the first token to the end); nullopt when there is
// nothing meaningful to divide (fewer than 2 tokens or no measurable generation time).
std::optional<double> tokens_per_second(std::uint32_t completion_tokens,
                                        std::optional<std::chrono::microseconds> time_to_first_token,
                                        std::chrono::microseconds total);

}  // namespace rally::llm_proxy
