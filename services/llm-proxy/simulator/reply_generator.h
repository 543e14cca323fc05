// The simulator's model: a reply that is a pure function of the model name and the conversation, cut by
// max_tokens and stop sequences the way the real APIs cut theirs, and split into stream deltas.
// Provider-neutral: the OpenAI and Anthropic formats both turn their requests into a CompletionRequest.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace rally::llm_simulator {

class ReplyRules;

struct ChatMessage {
  std::string role;  // "system" (also Anthropic's top-level system), "developer", "user", "assistant", ...
  std::string text;  // the text parts of the content, concatenated
};

struct CompletionRequest {
  std::string model;
  std::vector<ChatMessage> messages;
  std::optional<std::uint32_t> max_tokens;
  std::vector<std::string> stop_sequences;  // empty strings are ignored
  bool json_mode = false;
};

enum class FinishReason {
  kEndOfText,     // OpenAI "stop", Anthropic "end_turn"
  kMaxTokens,     // OpenAI "length", Anthropic "max_tokens"
  kStopSequence,  // OpenAI "stop", Anthropic "stop_sequence"
};

// One streamed piece of a reply.
struct ReplyDelta {
  std::string text;
  std::uint32_t tokens = 0;  // 1..3

  bool operator==(const ReplyDelta&) const = default;
};

struct Reply {
  std::string text;
  // The text cut into stream deltas of one to three tokens; they concatenate to `text`.
  std::vector<ReplyDelta> deltas;
  FinishReason finish = FinishReason::kEndOfText;
  std::string stop_sequence;  // the sequence that ended the reply when finish is kStopSequence
  std::uint32_t prompt_tokens = 0;
  std::uint32_t completion_tokens = 0;  // tokenize(text).size()
  std::string rule;                     // the scripted rule that produced the text; empty when generated
};

// Generated (unscripted) replies have between these many tokens before max_tokens applies.
inline constexpr std::uint32_t kMinReplyTokens = 20;
inline constexpr std::uint32_t kMaxReplyTokens = 120;

// Identifies the conversation: the model and every message's role and text. max_tokens and stop sequences
// are left out, so a cut reply is always a prefix of the uncut one.
std::uint64_t conversation_seed(const CompletionRequest& request);

// ceil(code points of all message text / 4), the usual rule of thumb for English text.
std::uint32_t estimate_prompt_tokens(const CompletionRequest& request);

// The text of the system, developer and user messages joined with '\n': what rules' "contains" searches.
std::string system_and_user_text(const CompletionRequest& request);

// The last message with role "user", empty when there is none.
std::string_view last_user_message(const CompletionRequest& request);

// The reply: the first matching rule's rendered template, else a JSON object in JSON mode, else prose of
// kMinReplyTokens..kMaxReplyTokens tokens; then cut after max_tokens tokens (finish kMaxTokens) and before
// the earliest stop sequence within what remains (finish kStopSequence; the sequence is not included).
Reply generate_reply(const CompletionRequest& request, const ReplyRules& rules);

}  // namespace rally::llm_simulator
