// The deterministic building blocks of the LLM simulator's replies: a stable hash, a small seeded random
// source, a fixed vocabulary, and the tokenizer that defines what a "token" is. Pure: no clocks, no
// globals, and nothing that depends on the standard library's implementation (std::hash and the
// <random> distributions differ between libraries), so a reply is the same on every machine and release.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace rally::llm_simulator {

// FNV-1a, 64 bits: the byte-wise hash that identifies a conversation.
std::uint64_t fnv1a64(std::string_view bytes, std::uint64_t state = 0xcbf29ce484222325ULL);

// The splitmix64 finaliser: spreads every input bit over the whole word, so small moduli of the result
// are evenly distributed even for inputs that differ in one byte.
std::uint64_t mix64(std::uint64_t value);

// mix64(fnv1a64(text)): the value behind the {{hash:N}} placeholders, for anyone who needs to predict it.
std::uint64_t stable_hash(std::string_view text);

// splitmix64 as a generator: tiny state, excellent statistical quality for this purpose, fully specified.
class DeterministicRandom {
 public:
  explicit DeterministicRandom(std::uint64_t seed) : state_(seed) {}

  std::uint64_t next();
  // Uniform in [0, bound) for bound >= 1 (Lemire's multiply-shift; the bias is below 2^-32 for our bounds).
  std::uint32_t below(std::uint32_t bound);
  // Uniform in [low, high].
  std::uint32_t between(std::uint32_t low, std::uint32_t high) { return low + below(high - low + 1); }

 private:
  std::uint64_t state_;
};

// Splits text into tokens: a token is a run of word characters (letters, digits, and every byte of a
// multi-byte UTF-8 sequence, so characters are never split) or a single other character, each carrying
// the whitespace before it. Trailing whitespace joins the last token. Concatenating the tokens gives the
// text back exactly.
std::vector<std::string_view> tokenize(std::string_view text);

// Prose of exactly `tokens` tokens: capitalised sentences of vocabulary words with commas and full stops,
// ending with a full stop (from two tokens on). Empty for 0 tokens.
std::string generate_prose(DeterministicRandom& random, std::size_t tokens);

// `count` lowercase vocabulary words separated by single spaces (letters only, so safe inside JSON strings).
std::string generate_words(DeterministicRandom& random, std::size_t count);

// A JSON object, as a model in JSON mode writes it: {"answer": "<prose>", "confidence": 0.87,
// "keywords": ["...", ...]}; the answer has `answer_tokens` tokens.
std::string generate_json_object(DeterministicRandom& random, std::size_t answer_tokens);

// Number of Unicode code points in well-formed UTF-8 text (each stray byte counts as one).
std::size_t count_code_points(std::string_view text);

}  // namespace rally::llm_simulator
