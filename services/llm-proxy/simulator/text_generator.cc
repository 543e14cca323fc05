#include "services/llm-proxy/simulator/text_generator.h"

#include <array>

namespace rally::llm_simulator {
namespace {

// Fixed forever: changing a word changes every reply, and tests elsewhere may pin replies.
constexpr std::array<std::string_view, 192> kVocabulary = {
    "model",   "answer",   "question",  "arena",    "rating",   "battle",  "token",    "stream",
    "result",  "system",   "signal",    "pattern",  "context",  "reason",  "measure",  "method",
    "balance", "window",   "river",     "mountain", "garden",   "harbor",  "lantern",  "meadow",
    "engine",  "circuit",  "network",   "bridge",   "compass",  "journey", "library",  "theory",
    "number",  "vector",   "matrix",    "sample",   "average",  "weight",  "score",    "judge",
    "critic",  "example",  "detail",    "summary",  "outline",  "draft",   "version",  "feature",
    "quickly", "slowly",   "carefully", "clearly",  "simply",   "often",   "rarely",   "always",
    "never",   "perhaps",  "certainly", "usually",  "gently",   "boldly",  "quietly",  "openly",
    "bright",  "steady",   "curious",   "honest",   "careful",  "simple",  "complex",  "ancient",
    "modern",  "gentle",   "rapid",     "silent",   "vivid",    "subtle",  "robust",   "fragile",
    "clear",   "useful",   "precise",   "broad",    "narrow",   "distant", "local",    "global",
    "early",   "late",     "quiet",     "loud",     "warm",     "cold",    "small",    "large",
    "build",   "compare",  "explain",   "describe", "estimate", "predict", "consider", "improve",
    "follow",  "discover", "observe",   "collect",  "arrange",  "combine", "support",  "review",
    "choose",  "refine",   "deliver",   "connect",  "protect",  "gather",  "shape",    "guide",
    "reveal",  "suggest",  "provide",   "require",  "create",   "remain",  "become",   "carry",
    "the",     "a",        "every",     "each",     "this",     "that",    "some",     "many",
    "few",     "several",  "another",   "its",      "their",    "our",     "your",     "one",
    "and",     "but",      "so",        "yet",      "because",  "while",   "when",     "where",
    "with",    "without",  "through",   "between",  "across",   "under",   "over",     "beyond",
    "into",    "from",     "toward",    "around",   "after",    "before",  "during",   "within",
    "is",      "was",      "will",      "can",      "should",   "might",   "must",     "could",
    "light",   "stone",    "paper",     "cloud",    "voice",    "field",   "season",   "forest",
    "ocean",   "island",   "morning",   "evening",  "winter",   "summer",  "letter",   "story",
};

// A sentence has this many words (punctuation not counted) unless the reply runs out of tokens first.
constexpr std::uint32_t kMinSentenceWords = 4;
constexpr std::uint32_t kMaxSentenceWords = 14;
// One word in this many is followed by a comma (never the first or the last of a sentence).
constexpr std::uint32_t kCommaOneIn = 9;

std::string_view pick_word(DeterministicRandom& random) {
  return kVocabulary[random.below(static_cast<std::uint32_t>(kVocabulary.size()))];
}

// ASCII classes spelled out: <cctype> would consult the global locale.
bool is_word_byte(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c >= 0x80;
}

bool is_space_byte(unsigned char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

}  // namespace

std::uint64_t fnv1a64(std::string_view bytes, std::uint64_t state) {
  for (const char c : bytes) {
    state ^= static_cast<unsigned char>(c);
    state *= 0x100000001b3ULL;
  }
  return state;
}

std::uint64_t mix64(std::uint64_t value) {
  value = (value ^ (value >> 30)) * 0xbf58476d1ce4e5b9ULL;
  value = (value ^ (value >> 27)) * 0x94d049bb133111ebULL;
  return value ^ (value >> 31);
}

std::uint64_t stable_hash(std::string_view text) {
  return mix64(fnv1a64(text));
}

std::uint64_t DeterministicRandom::next() {
  state_ += 0x9e3779b97f4a7c15ULL;
  return mix64(state_);
}

std::uint32_t DeterministicRandom::below(std::uint32_t bound) {
  const std::uint64_t high32 = next() >> 32;
  return static_cast<std::uint32_t>((high32 * bound) >> 32);
}

std::vector<std::string_view> tokenize(std::string_view text) {
  std::vector<std::string_view> tokens;
  std::size_t start = 0;
  std::size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && is_space_byte(static_cast<unsigned char>(text[i]))) ++i;
    if (i == text.size()) break;
    if (is_word_byte(static_cast<unsigned char>(text[i]))) {
      while (i < text.size() && is_word_byte(static_cast<unsigned char>(text[i]))) ++i;
    } else {
      ++i;
    }
    tokens.push_back(text.substr(start, i - start));
    start = i;
  }
  if (start < text.size()) {
    if (tokens.empty()) {
      tokens.push_back(text);  // whitespace only: one token, so nothing is lost
    } else {
      const std::string_view last = tokens.back();
      tokens.back() = std::string_view(last.data(), last.size() + (text.size() - start));
    }
  }
  return tokens;
}

std::string generate_prose(DeterministicRandom& random, std::size_t tokens) {
  std::string text;
  std::uint32_t sentence_words = random.between(kMinSentenceWords, kMaxSentenceWords);
  std::uint32_t words_so_far = 0;
  bool after_comma = false;
  for (std::size_t remaining = tokens; remaining > 0; --remaining) {
    // A sentence ends when it is long enough, or when one token is left; it is stretched by a word rather
    // than leaving a single token for a sentence of its own.
    const bool end_sentence = words_so_far > 0 && !after_comma &&
                              (remaining == 1 || (words_so_far >= sentence_words && remaining != 2));
    if (end_sentence) {
      text += '.';
      words_so_far = 0;
      sentence_words = random.between(kMinSentenceWords, kMaxSentenceWords);
      continue;
    }
    const bool comma = !after_comma && words_so_far >= 2 && words_so_far + 1 < sentence_words &&
                       remaining > 3 && random.below(kCommaOneIn) == 0;
    after_comma = comma;
    if (comma) {
      text += ',';
      continue;
    }
    if (!text.empty()) text += ' ';
    const std::string_view word = pick_word(random);
    if (words_so_far == 0) {
      text += static_cast<char>(word.front() - 'a' + 'A');  // vocabulary words are lowercase ASCII
      text.append(word.substr(1));
    } else {
      text.append(word);
    }
    ++words_so_far;
  }
  return text;
}

std::string generate_words(DeterministicRandom& random, std::size_t count) {
  std::string text;
  for (std::size_t i = 0; i < count; ++i) {
    if (i > 0) text += ' ';
    text.append(pick_word(random));
  }
  return text;
}

std::string generate_json_object(DeterministicRandom& random, std::size_t answer_tokens) {
  // Vocabulary words and prose contain only letters, spaces, commas and full stops: nothing to escape.
  std::string json = "{\"answer\": \"";
  json += generate_prose(random, answer_tokens);
  const std::uint32_t confidence = random.between(50, 99);
  json += "\", \"confidence\": 0.";
  json += std::to_string(confidence);
  json += ", \"keywords\": [";
  const std::uint32_t keywords = random.between(2, 4);
  for (std::uint32_t i = 0; i < keywords; ++i) {
    if (i > 0) json += ", ";
    json += '"';
    json.append(pick_word(random));
    json += '"';
  }
  json += "]}";
  return json;
}

std::size_t count_code_points(std::string_view text) {
  std::size_t count = 0;
  for (const char c : text) {
    // Continuation bytes (10xxxxxx) belong to the code point before them.
    if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) ++count;
  }
  return count;
}

}  // namespace rally::llm_simulator
