#include "services/llm-proxy/simulator/reply_rules.h"

#include <boost/json.hpp>
#include <charconv>
#include <utility>

#include "services/llm-proxy/simulator/text_generator.h"

namespace rally::llm_simulator {
namespace {

namespace json = boost::json;
using common::Error;
using common::ErrorCode;
using common::Result;

// Bounds that keep a rendered reply reasonable; a rule asking for more is almost certainly a typo.
constexpr std::uint32_t kMaxHashModulus = 1'000'000'000;
constexpr std::uint32_t kMaxWords = 10'000;

Error invalid(std::string message) {
  return Error(ErrorCode::kInvalidRequest, std::move(message));
}

std::optional<std::uint32_t> parse_count(std::string_view text, std::uint32_t max) {
  std::uint32_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value == 0 || value > max) {
    return std::nullopt;
  }
  return value;
}

std::string describe_rule(std::size_t index, std::string_view name) {
  std::string where = "rules[" + std::to_string(index) + "]";
  if (!name.empty()) where += " (\"" + std::string(name) + "\")";
  return where;
}

Result<RuleMatch> parse_match(const json::value& value, const std::string& where) {
  RuleMatch match;
  const json::object* object = value.if_object();
  if (object == nullptr) return invalid(where + ": \"match\" must be an object");
  for (const auto& [key, field] : *object) {
    if (key == "model" || key == "contains") {
      const json::string* text = field.if_string();
      if (text == nullptr) return invalid(where + ": match." + std::string(key) + " must be a string");
      (key == "model" ? match.model : match.contains) = std::string(*text);
    } else if (key == "json_mode") {
      if (!field.is_bool()) return invalid(where + ": match.json_mode must be true or false");
      match.json_mode = field.get_bool();
    } else {
      return invalid(where + ": unknown match condition \"" + std::string(key) +
                     "\" (expected model, contains, json_mode)");
    }
  }
  return match;
}

Result<ReplyRule> parse_rule(const json::value& value, std::size_t index) {
  const json::object* object = value.if_object();
  if (object == nullptr) return invalid(describe_rule(index, {}) + ": a rule must be an object");
  std::string name;
  if (const json::value* field = object->if_contains("name")) {
    if (!field->is_string()) return invalid(describe_rule(index, {}) + ": \"name\" must be a string");
    name = std::string(field->get_string());
  }
  const std::string where = describe_rule(index, name);
  if (name.empty()) return invalid(where + ": \"name\" is required");

  ReplyRule rule;
  rule.name = name;
  bool has_reply = false;
  for (const auto& [key, field] : *object) {
    if (key == "name") continue;
    if (key == "match") {
      auto match = parse_match(field, where);
      if (!match) return match.error();
      rule.match = std::move(match.value());
    } else if (key == "reply") {
      const json::string* text = field.if_string();
      if (text == nullptr) return invalid(where + ": \"reply\" must be a string (the template)");
      auto reply = ReplyTemplate::parse(*text);
      if (!reply) return invalid(where + ": " + reply.error().message);
      rule.reply = std::move(reply.value());
      has_reply = true;
    } else {
      return invalid(where + ": unknown key \"" + std::string(key) + "\" (expected name, match, reply)");
    }
  }
  if (!has_reply) return invalid(where + ": \"reply\" is required");
  return rule;
}

}  // namespace

Result<ReplyTemplate> ReplyTemplate::parse(std::string_view text) {
  ReplyTemplate parsed;
  std::string literal;
  std::size_t i = 0;
  while (i < text.size()) {
    const std::size_t open = text.find("{{", i);
    if (open == std::string_view::npos) {
      literal.append(text.substr(i));
      break;
    }
    literal.append(text.substr(i, open - i));
    const std::size_t close = text.find("}}", open + 2);
    if (close == std::string_view::npos) {
      return invalid("template: \"{{\" at offset " + std::to_string(open) + " is never closed");
    }
    const std::string_view placeholder = text.substr(open + 2, close - open - 2);
    const std::size_t colon = placeholder.find(':');
    const std::string_view name = placeholder.substr(0, colon);
    const std::optional<std::string_view> argument =
        colon == std::string_view::npos ? std::nullopt : std::optional(placeholder.substr(colon + 1));

    Segment segment;
    std::uint32_t max_argument = 0;
    if (name == "hash") {
      segment.kind = Kind::kHash;
      max_argument = kMaxHashModulus;
    } else if (name == "hash_decimal") {
      segment.kind = Kind::kHashDecimal;
      max_argument = kMaxHashModulus / 10;
    } else if (name == "words") {
      segment.kind = Kind::kWords;
      max_argument = kMaxWords;
    } else if (name == "last_user_message_length") {
      segment.kind = Kind::kLastUserMessageLength;
    } else if (name == "model") {
      segment.kind = Kind::kModel;
    } else {
      return invalid("template: unknown placeholder {{" + std::string(placeholder) +
                     "}} (expected hash:N, hash_decimal:N, words:N, last_user_message_length, model)");
    }
    if (max_argument != 0) {
      const auto n = argument ? parse_count(*argument, max_argument) : std::nullopt;
      if (!n) {
        return invalid("template: {{" + std::string(placeholder) + "}} needs an integer N in 1.." +
                       std::to_string(max_argument) + ", as in {{" + std::string(name) + ":10}}");
      }
      segment.n = *n;
    } else if (argument) {
      return invalid("template: {{" + std::string(name) + "}} takes no argument");
    }

    if (!literal.empty()) {
      parsed.segments_.push_back(Segment{Kind::kLiteral, std::move(literal), 0});
      literal.clear();
    }
    parsed.segments_.push_back(std::move(segment));
    i = close + 2;
  }
  if (!literal.empty()) parsed.segments_.push_back(Segment{Kind::kLiteral, std::move(literal), 0});
  return parsed;
}

std::string ReplyTemplate::render(const TemplateInputs& inputs) const {
  const std::uint64_t hash = stable_hash(inputs.last_user_message);
  DeterministicRandom random(inputs.conversation_seed);
  std::string out;
  for (const Segment& segment : segments_) {
    switch (segment.kind) {
      case Kind::kLiteral:
        out += segment.literal;
        break;
      case Kind::kHash:
        out += std::to_string(hash % segment.n);
        break;
      case Kind::kHashDecimal: {
        const std::uint64_t tenths = hash % (std::uint64_t{segment.n} * 10);
        out += std::to_string(tenths / 10);
        out += '.';
        out += static_cast<char>('0' + tenths % 10);
        break;
      }
      case Kind::kWords:
        out += generate_words(random, segment.n);
        break;
      case Kind::kLastUserMessageLength:
        out += std::to_string(count_code_points(inputs.last_user_message));
        break;
      case Kind::kModel:
        out += inputs.model;
        break;
    }
  }
  return out;
}

Result<ReplyRules> ReplyRules::parse(std::string_view json_text) {
  boost::system::error_code ec;
  const json::value document = json::parse(json_text, ec);
  if (ec) return invalid("not valid JSON: " + ec.message());

  const json::array* list = document.if_array();
  if (const json::object* object = document.if_object()) {
    const json::value* rules = object->if_contains("rules");
    if (rules == nullptr || object->size() != 1) {
      return invalid("expected {\"rules\": [...]} or an array of rules");
    }
    list = rules->if_array();
  }
  if (list == nullptr) return invalid("\"rules\" must be an array of rules");

  ReplyRules parsed;
  for (std::size_t index = 0; index < list->size(); ++index) {
    auto rule = parse_rule((*list)[index], index);
    if (!rule) return rule.error();
    parsed.rules_.push_back(std::move(rule.value()));
  }
  return parsed;
}

const ReplyRule* ReplyRules::first_match(std::string_view model, std::string_view system_and_user_text,
                                         bool json_mode) const {
  for (const ReplyRule& rule : rules_) {
    const RuleMatch& match = rule.match;
    if (match.model && !glob_match(*match.model, model)) continue;
    if (match.contains && system_and_user_text.find(*match.contains) == std::string_view::npos) continue;
    if (match.json_mode && *match.json_mode != json_mode) continue;
    return &rule;
  }
  return nullptr;
}

bool glob_match(std::string_view pattern, std::string_view text) {
  // Iterative matching with a single backtrack point: linear in practice, never exponential.
  std::size_t p = 0;
  std::size_t t = 0;
  std::size_t star = std::string_view::npos;
  std::size_t star_text = 0;
  while (t < text.size()) {
    if (p < pattern.size() && (pattern[p] == '?' || pattern[p] == text[t])) {
      ++p;
      ++t;
    } else if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      star_text = t;
    } else if (star != std::string_view::npos) {
      p = star + 1;
      t = ++star_text;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

}  // namespace rally::llm_simulator
