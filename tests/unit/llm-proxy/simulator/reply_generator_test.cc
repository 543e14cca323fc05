// The simulator's pure generation: hashing, tokens, prose, JSON mode, and how replies are cut.
#include "services/llm-proxy/simulator/reply_generator.h"

#include <boost/json.hpp>
#include <catch2/catch.hpp>
#include <set>
#include <string>

#include "services/llm-proxy/simulator/reply_rules.h"
#include "services/llm-proxy/simulator/text_generator.h"

namespace sim = rally::llm_simulator;

namespace {

sim::CompletionRequest conversation(std::string user_text, std::string model = "gpt-4o") {
  sim::CompletionRequest request;
  request.model = std::move(model);
  request.messages.push_back({"system", "You are terse."});
  request.messages.push_back({"user", std::move(user_text)});
  return request;
}

std::string joined(const std::vector<std::string_view>& tokens) {
  std::string text;
  for (const auto token : tokens) text.append(token);
  return text;
}

std::string joined(const std::vector<sim::ReplyDelta>& deltas) {
  std::string text;
  for (const auto& delta : deltas) text += delta.text;
  return text;
}

}  // namespace

TEST_CASE("the hash is FNV-1a 64 and never changes") {
  // Published FNV-1a test vectors: replies depend on these values staying put.
  CHECK(sim::fnv1a64("") == 0xcbf29ce484222325ULL);
  CHECK(sim::fnv1a64("a") == 0xaf63dc4c8601ec8cULL);
  CHECK(sim::fnv1a64("foobar") == 0x85944171f73967e8ULL);
  CHECK(sim::stable_hash("foobar") == sim::mix64(0x85944171f73967e8ULL));
}

TEST_CASE("the random source is a pure function of its seed") {
  sim::DeterministicRandom a(42);
  sim::DeterministicRandom b(42);
  sim::DeterministicRandom c(43);
  bool differs = false;
  for (int i = 0; i < 100; ++i) {
    const auto value = a.next();
    CHECK(value == b.next());
    differs = differs || value != c.next();
  }
  CHECK(differs);
  sim::DeterministicRandom bounded(7);
  std::set<std::uint32_t> seen;
  for (int i = 0; i < 1000; ++i) {
    const auto value = bounded.between(3, 6);
    REQUIRE(value >= 3);
    REQUIRE(value <= 6);
    seen.insert(value);
  }
  CHECK(seen.size() == 4);
}

TEST_CASE("tokens are words or punctuation with the whitespace before them") {
  CHECK(sim::tokenize("").empty());
  const auto tokens = sim::tokenize("Hello, world! It's 42.");
  CHECK(tokens == std::vector<std::string_view>{"Hello", ",", " world", "!", " It", "'", "s", " 42", "."});
  CHECK(joined(sim::tokenize("  leading and trailing  ")) == "  leading and trailing  ");
  CHECK(sim::tokenize("  leading and trailing  ").size() == 3);
  CHECK(sim::tokenize("   ").size() == 1);  // whitespace alone is kept, as one token
  // Multi-byte characters are never split: "naïve café" is two tokens.
  CHECK(sim::tokenize("na\xc3\xafve caf\xc3\xa9").size() == 2);
  CHECK(sim::tokenize("{\"score\": 7}").size() == 7);  // {  "  score  "  :  7  }
}

TEST_CASE("prose has exactly the asked number of tokens and reads like sentences") {
  for (std::size_t length : {2u, 3u, 4u, 5u, 20u, 57u, 120u, 500u}) {
    sim::DeterministicRandom random(length);
    const std::string prose = sim::generate_prose(random, length);
    INFO(prose);
    CHECK(sim::tokenize(prose).size() == length);
    CHECK(prose.back() == '.');
    CHECK(prose.find(",,") == std::string::npos);
    CHECK(prose.front() >= 'A');
    CHECK(prose.front() <= 'Z');
    CHECK(prose.find("..") == std::string::npos);
    CHECK(prose.find(",.") == std::string::npos);
  }
  sim::DeterministicRandom small(1);
  CHECK(sim::generate_prose(small, 0).empty());
  CHECK(sim::tokenize(sim::generate_prose(small, 1)).size() == 1);
}

TEST_CASE("JSON-mode objects parse and have the documented fields") {
  for (std::uint64_t seed = 0; seed < 50; ++seed) {
    sim::DeterministicRandom random(seed);
    const std::string text = sim::generate_json_object(random, 20 + seed);
    INFO(text);
    const auto value = boost::json::parse(text);
    const auto& object = value.as_object();
    CHECK(object.at("answer").is_string());
    CHECK(object.at("confidence").is_double());
    CHECK(object.at("keywords").as_array().size() >= 2);
  }
}

TEST_CASE("a reply is a pure function of the model and the conversation") {
  const sim::ReplyRules no_rules;
  const auto first = sim::generate_reply(conversation("What is Elo?"), no_rules);
  const auto again = sim::generate_reply(conversation("What is Elo?"), no_rules);
  CHECK(first.text == again.text);
  CHECK(first.deltas == again.deltas);
  CHECK(first.finish == sim::FinishReason::kEndOfText);
  CHECK(first.rule.empty());
  CHECK(first.completion_tokens >= sim::kMinReplyTokens);
  CHECK(first.completion_tokens <= sim::kMaxReplyTokens);
  CHECK(sim::tokenize(first.text).size() == first.completion_tokens);

  CHECK(sim::generate_reply(conversation("What is Glicko?"), no_rules).text != first.text);
  CHECK(sim::generate_reply(conversation("What is Elo?", "claude-3-5-sonnet-latest"), no_rules).text !=
        first.text);
  auto longer = conversation("What is Elo?");
  longer.messages.push_back({"assistant", "A rating system."});
  longer.messages.push_back({"user", "More."});
  CHECK(sim::generate_reply(longer, no_rules).text != first.text);
  // Role matters too: the same text from the system is another conversation.
  auto roles = conversation("What is Elo?");
  roles.messages[1].role = "system";
  CHECK(sim::conversation_seed(roles) != sim::conversation_seed(conversation("What is Elo?")));
}

TEST_CASE("reply lengths spread over the whole range") {
  const sim::ReplyRules no_rules;
  std::set<std::uint32_t> lengths;
  for (int i = 0; i < 200; ++i) {
    const auto reply = sim::generate_reply(conversation("question " + std::to_string(i)), no_rules);
    lengths.insert(reply.completion_tokens);
  }
  CHECK(*lengths.begin() < 35);
  CHECK(*lengths.rbegin() > 105);
  CHECK(lengths.size() > 50);
}

TEST_CASE("deltas carry one to three tokens and add up to the text") {
  const sim::ReplyRules no_rules;
  const auto reply = sim::generate_reply(conversation("Stream this"), no_rules);
  CHECK(joined(reply.deltas) == reply.text);
  std::uint32_t tokens = 0;
  std::set<std::uint32_t> sizes;
  for (const auto& delta : reply.deltas) {
    CHECK(delta.tokens >= 1);
    CHECK(delta.tokens <= 3);
    CHECK(sim::tokenize(delta.text).size() == delta.tokens);
    tokens += delta.tokens;
    sizes.insert(delta.tokens);
  }
  CHECK(tokens == reply.completion_tokens);
  CHECK(sizes.size() > 1);
}

TEST_CASE("max_tokens cuts the reply to a prefix and reports the limit") {
  const sim::ReplyRules no_rules;
  const auto full = sim::generate_reply(conversation("Tell me everything"), no_rules);
  REQUIRE(full.completion_tokens > 5);
  auto request = conversation("Tell me everything");
  request.max_tokens = 5;
  const auto cut = sim::generate_reply(request, no_rules);
  CHECK(cut.finish == sim::FinishReason::kMaxTokens);
  CHECK(cut.completion_tokens == 5);
  CHECK(full.text.starts_with(cut.text));
  CHECK(joined(cut.deltas) == cut.text);

  request.max_tokens = full.completion_tokens;  // exactly enough: not cut
  CHECK(sim::generate_reply(request, no_rules).finish == sim::FinishReason::kEndOfText);
  request.max_tokens = 1;
  CHECK(sim::generate_reply(request, no_rules).completion_tokens == 1);
}

TEST_CASE("stop sequences end the reply before the earliest match") {
  const sim::ReplyRules no_rules;
  const auto full = sim::generate_reply(conversation("Say several things"), no_rules);
  const auto words = sim::tokenize(full.text);
  REQUIRE(words.size() > 10);
  const std::string word(words[6]);  // " something", with its leading space
  auto request = conversation("Say several things");
  request.stop_sequences = {"no such text", word};
  const auto stopped = sim::generate_reply(request, no_rules);
  CHECK(stopped.finish == sim::FinishReason::kStopSequence);
  CHECK(stopped.stop_sequence == word);
  CHECK(stopped.text == full.text.substr(0, full.text.find(word)));
  CHECK(stopped.text.find(word) == std::string::npos);
  CHECK(stopped.completion_tokens == sim::tokenize(stopped.text).size());

  SECTION("the earliest match wins, whatever the order of the list") {
    request.stop_sequences = {word, "."};
    const auto at_full_stop = sim::generate_reply(request, no_rules);
    const std::size_t first_stop = std::min(full.text.find(word), full.text.find('.'));
    CHECK(at_full_stop.text == full.text.substr(0, first_stop));
  }
  SECTION("a stop sequence can cut inside a token") {
    const std::string inside = word.substr(0, 3);  // " so" of " something"
    request.stop_sequences = {inside};
    const auto cut = sim::generate_reply(request, no_rules);
    CHECK(cut.text == full.text.substr(0, full.text.find(inside)));
  }
  SECTION("empty stop sequences are ignored") {
    request.stop_sequences = {""};
    CHECK(sim::generate_reply(request, no_rules).text == full.text);
  }
  SECTION("a stop sequence beyond max_tokens does not apply") {
    request.stop_sequences = {word};
    request.max_tokens = 3;
    const auto cut = sim::generate_reply(request, no_rules);
    CHECK(cut.finish == sim::FinishReason::kMaxTokens);
    CHECK(cut.completion_tokens == 3);
  }
}

TEST_CASE("JSON mode replies are valid JSON objects") {
  const sim::ReplyRules no_rules;
  for (int i = 0; i < 30; ++i) {
    auto request = conversation("Answer in JSON, please " + std::to_string(i));
    request.json_mode = true;
    const auto reply = sim::generate_reply(request, no_rules);
    INFO(reply.text);
    CHECK(reply.finish == sim::FinishReason::kEndOfText);
    CHECK(boost::json::parse(reply.text).is_object());
  }
}

TEST_CASE("prompt tokens are a quarter of the characters, rounded up") {
  sim::CompletionRequest request;
  request.model = "m";
  CHECK(sim::estimate_prompt_tokens(request) == 0);
  request.messages.push_back({"user", "abcde"});
  CHECK(sim::estimate_prompt_tokens(request) == 2);
  request.messages.push_back({"assistant", "abc"});
  CHECK(sim::estimate_prompt_tokens(request) == 2);
  request.messages.push_back({"user", "\xc3\xa9"});  // one character in two bytes
  CHECK(sim::estimate_prompt_tokens(request) == 3);
}

TEST_CASE("a matching rule replaces generated text and is cut like any reply") {
  const auto rules = sim::ReplyRules::parse(R"({"rules": [
      {"name": "critic", "match": {"model": "critic-*", "contains": "Rate the answer"},
       "reply": "{\"score\": {{hash:11}}, \"description\": \"{{words:6}}\"}"}]})");
  REQUIRE(rules.ok());
  auto request = conversation("Rate the answer: Paris is the capital of France.", "critic-large");
  const auto reply = sim::generate_reply(request, rules.value());
  CHECK(reply.rule == "critic");
  const auto json = boost::json::parse(reply.text).as_object();
  CHECK(json.at("score").as_int64() ==
        static_cast<std::int64_t>(sim::stable_hash("Rate the answer: Paris is the capital of France.") % 11));
  CHECK(joined(reply.deltas) == reply.text);
  CHECK(reply.deltas.size() > 5);  // rendered replies stream token by token too

  request.max_tokens = 4;
  const auto cut = sim::generate_reply(request, rules.value());
  CHECK(cut.finish == sim::FinishReason::kMaxTokens);
  CHECK(reply.text.starts_with(cut.text));

  CHECK(sim::generate_reply(conversation("Rate the answer: x", "gpt-4o"), rules.value()).rule.empty());
  CHECK(sim::generate_reply(conversation("Something else", "critic-large"), rules.value()).rule.empty());
}
