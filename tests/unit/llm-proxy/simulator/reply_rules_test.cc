// Scripted replies: the rules file format, matching, and template rendering.
#include "services/llm-proxy/simulator/reply_rules.h"

#include <boost/json.hpp>
#include <catch2/catch.hpp>
#include <set>
#include <string>

#include "services/llm-proxy/simulator/text_generator.h"

namespace sim = rally::llm_simulator;

namespace {

std::string render(std::string_view template_text, std::string_view last_user = "hello",
                   std::string_view model = "gpt-4o", std::uint64_t seed = 1) {
  const auto parsed = sim::ReplyTemplate::parse(template_text);
  REQUIRE(parsed.ok());
  return parsed.value().render(sim::TemplateInputs{model, last_user, seed});
}

std::string parse_error(std::string_view rules_json) {
  const auto rules = sim::ReplyRules::parse(rules_json);
  REQUIRE_FALSE(rules.ok());
  return rules.error().message;
}

}  // namespace

TEST_CASE("globs match whole names with * and ?") {
  CHECK(sim::glob_match("*", ""));
  CHECK(sim::glob_match("*", "anything"));
  CHECK(sim::glob_match("gpt-4o", "gpt-4o"));
  CHECK_FALSE(sim::glob_match("gpt-4o", "gpt-4o-mini"));
  CHECK(sim::glob_match("gpt-4o*", "gpt-4o-mini"));
  CHECK(sim::glob_match("claude-*-sonnet-*", "claude-3-5-sonnet-latest"));
  CHECK_FALSE(sim::glob_match("claude-*-sonnet-*", "claude-3-5-haiku-latest"));
  CHECK(sim::glob_match("gpt-?", "gpt-4"));
  CHECK_FALSE(sim::glob_match("gpt-?", "gpt-4o"));
  CHECK(sim::glob_match("*critic*", "my-critic-model"));
  CHECK(sim::glob_match("a*b*c", "aXXbYYbc"));
  CHECK_FALSE(sim::glob_match("a*b*c", "aXXbYYbd"));
  // No exponential blow-up on adversarial patterns.
  CHECK_FALSE(sim::glob_match("*a*a*a*a*a*a*a*a*b", std::string(5000, 'a')));
}

TEST_CASE("templates render each placeholder deterministically") {
  const std::uint64_t hash = sim::stable_hash("hello");
  CHECK(render("{{hash:10}}") == std::to_string(hash % 10));
  CHECK(render("{{hash:1}}") == "0");
  const std::uint64_t tenths = hash % 100;
  CHECK(render("{{hash_decimal:10}}") == std::to_string(tenths / 10) + "." + std::to_string(tenths % 10));
  CHECK(render("{{model}} said") == "gpt-4o said");
  CHECK(render("{{last_user_message_length}}", "na\xc3\xafve") == "5");  // characters, not bytes
  CHECK(render("plain text, no placeholders") == "plain text, no placeholders");
  CHECK(render("") == "");

  const std::string words = render("{{words:7}}");
  CHECK(std::count(words.begin(), words.end(), ' ') == 6);
  CHECK(words.find_first_not_of("abcdefghijklmnopqrstuvwxyz ") == std::string::npos);
  CHECK(render("{{words:7}}") == words);
  CHECK(render("{{words:7}}", "hello", "gpt-4o", 2) != words);  // seeded by the conversation
  // Two {{words}} in one template continue one stream instead of repeating.
  const std::string twice = render("{{words:5}}|{{words:5}}");
  CHECK(twice.substr(0, twice.find('|')) != twice.substr(twice.find('|') + 1));
}

TEST_CASE("hash placeholders depend only on the last user message") {
  std::set<std::string> scores;
  for (int i = 0; i < 200; ++i) {
    const std::string score = render("{{hash:11}}", "answer number " + std::to_string(i));
    const int value = std::stoi(score);
    CHECK(value >= 0);
    CHECK(value <= 10);
    scores.insert(score);
  }
  CHECK(scores.size() == 11);
  CHECK(render("{{hash:11}}", "same", "model-a", 1) == render("{{hash:11}}", "same", "model-b", 99));

  std::set<std::string> decimals;
  for (int i = 0; i < 500; ++i) {
    const std::string value = render("{{hash_decimal:10}}", std::to_string(i));
    const double number = std::stod(value);
    CHECK(number >= 0.0);
    CHECK(number <= 9.9);
    CHECK(value.size() == 3);
    decimals.insert(value);
  }
  CHECK(decimals.size() > 80);
}

TEST_CASE("malformed templates are rejected with the reason") {
  for (const std::string_view bad : {"{{hash}}", "{{hash:0}}", "{{hash:abc}}", "{{hash:1000000001}}",
                                     "{{words:10001}}", "{{model:3}}", "{{nope}}", "{{hash:3", "a {{ b"}) {
    INFO(bad);
    const auto parsed = sim::ReplyTemplate::parse(bad);
    REQUIRE_FALSE(parsed.ok());
    CHECK_FALSE(parsed.error().message.empty());
  }
  CHECK_THAT(sim::ReplyTemplate::parse("{{nope}}").error().message, Catch::Contains("unknown placeholder"));
}

TEST_CASE("the rules file is validated strictly") {
  CHECK(sim::ReplyRules::parse("[]").ok());
  CHECK(sim::ReplyRules::parse(R"({"rules": []})").ok());
  CHECK_THAT(parse_error("not json"), Catch::Contains("not valid JSON"));
  CHECK_THAT(parse_error(R"({"rule": []})"), Catch::Contains("expected"));
  CHECK_THAT(parse_error(R"([{"reply": "x"}])"), Catch::Contains("\"name\" is required"));
  CHECK_THAT(parse_error(R"([{"name": "a"}])"), Catch::Contains("\"reply\" is required"));
  CHECK_THAT(parse_error(R"([{"name": "a", "reply": "x", "extra": 1}])"), Catch::Contains("unknown key"));
  CHECK_THAT(parse_error(R"([{"name": "a", "reply": "x", "match": {"contain": "typo"}}])"),
             Catch::Contains("unknown match condition \"contain\""));
  CHECK_THAT(parse_error(R"([{"name": "a", "reply": "x", "match": {"json_mode": "yes"}}])"),
             Catch::Contains("json_mode"));
  CHECK_THAT(parse_error(R"([{"name": "ok", "reply": "x"}, {"name": "bad", "reply": "{{oops}}"}])"),
             Catch::Contains("rules[1] (\"bad\")"));
}

TEST_CASE("the first matching rule wins and every condition must hold") {
  const auto parsed = sim::ReplyRules::parse(R"({"rules": [
      {"name": "json-critic", "match": {"model": "critic-*", "json_mode": true}, "reply": "{}"},
      {"name": "critic", "match": {"model": "critic-*"}, "reply": "plain"},
      {"name": "greeting", "match": {"contains": "Hello"}, "reply": "Hi!"},
      {"name": "fallback", "reply": "anything"}]})");
  REQUIRE(parsed.ok());
  const sim::ReplyRules& rules = parsed.value();
  CHECK(rules.rules().size() == 4);
  CHECK(rules.first_match("critic-1", "Hello", true)->name == "json-critic");
  CHECK(rules.first_match("critic-1", "Hello", false)->name == "critic");
  CHECK(rules.first_match("gpt-4o", "Say Hello", false)->name == "greeting");
  CHECK(rules.first_match("gpt-4o", "say hello", false)->name == "fallback");  // contains is case-sensitive
  CHECK(sim::ReplyRules().first_match("gpt-4o", "Hello", false) == nullptr);
}

TEST_CASE("the documented critic rule yields schema-valid scores") {
  // The example of docs/llm-simulator.md, verbatim.
  const auto parsed = sim::ReplyRules::parse(R"({
    "rules": [
      {
        "name": "critic-score",
        "match": {"contains": "You are a strict critic", "json_mode": true},
        "reply": "{\"score\": {{hash:11}}, \"description\": \"The answer is {{words:12}}.\"}"
      }
    ]
  })");
  REQUIRE(parsed.ok());
  const sim::ReplyRule* rule =
      parsed.value().first_match("gpt-4o", "You are a strict critic.\nRate: 2+2=4", true);
  REQUIRE(rule != nullptr);
  for (int i = 0; i < 50; ++i) {
    const std::string answer = "Candidate answer " + std::to_string(i);
    const std::string text = rule->reply.render({"gpt-4o", answer, static_cast<std::uint64_t>(i)});
    INFO(text);
    const auto json = boost::json::parse(text).as_object();
    CHECK(json.size() == 2);
    const std::int64_t score = json.at("score").as_int64();
    CHECK(score >= 0);
    CHECK(score <= 10);
    CHECK(json.at("description").as_string().starts_with("The answer is "));
  }
}
