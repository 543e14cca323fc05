// Scripted replies: an ordered list of rules, each a match and a reply template. The first rule that
// matches a request renders its template instead of generated text (docs/llm-simulator.md). Rules are
// parsed and validated once, at start; rendering cannot fail. Pure: no I/O.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "services/common/errors.h"

namespace rally::llm_simulator {

// What a template may draw on, all of it derived from the request.
struct TemplateInputs {
  std::string_view model;
  std::string_view last_user_message;
  std::uint64_t conversation_seed = 0;  // seeds {{words:N}}
};

// Text with placeholders: {{hash:N}}, {{hash_decimal:N}}, {{words:N}}, {{last_user_message_length}} and
// {{model}}. Every "{{" opens a placeholder; an unknown or malformed one is a parse error.
class ReplyTemplate {
 public:
  static common::Result<ReplyTemplate> parse(std::string_view text);

  std::string render(const TemplateInputs& inputs) const;

 private:
  enum class Kind { kLiteral, kHash, kHashDecimal, kWords, kLastUserMessageLength, kModel };
  struct Segment {
    Kind kind = Kind::kLiteral;
    std::string literal;
    std::uint32_t n = 0;
  };

  std::vector<Segment> segments_;
};

struct RuleMatch {
  std::optional<std::string> model;     // glob: '*' any run of characters, '?' one character
  std::optional<std::string> contains;  // substring of the system and user text (case-sensitive)
  std::optional<bool> json_mode;
};

struct ReplyRule {
  std::string name;
  RuleMatch match;
  ReplyTemplate reply;
};

class ReplyRules {
 public:
  ReplyRules() = default;  // no rules: every reply is generated

  // The rules file: {"rules": [rule, ...]} or a bare array of rules; each rule is
  // {"name": string, "match": {"model"?, "contains"?, "json_mode"?}, "reply": template}.
  // Unknown keys are errors, so a misspelt condition cannot silently match everything.
  static common::Result<ReplyRules> parse(std::string_view json_text);

  // The first rule matching the request, or nullptr. `system_and_user_text` is the text of the system and
  // user messages joined with '\n'.
  const ReplyRule* first_match(std::string_view model, std::string_view system_and_user_text,
                               bool json_mode) const;

  const std::vector<ReplyRule>& rules() const { return rules_; }

 private:
  std::vector<ReplyRule> rules_;
};

// Shell-style wildcard match of the whole text ('*' and '?'; no character classes or escapes).
bool glob_match(std::string_view pattern, std::string_view text);

}  // namespace rally::llm_simulator
