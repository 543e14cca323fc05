#include "services/critique/domain/critique_answer.h"

#include <catch2/catch.hpp>

namespace rally::critique {
namespace {

CritiqueAnswer parsed(std::string_view text) {
  auto answer = parse_critique_answer(text);
  INFO(text << (answer.ok() ? "" : " -> " + answer.error().message));
  REQUIRE(answer.ok());
  return answer.value();
}

TEST_CASE("a plain JSON critique reads as it is", "[critique]") {
  const CritiqueAnswer answer = parsed(R"({"score": 7.5, "description": "Clear and specific."})");
  CHECK(answer.score == 7.5);
  CHECK(answer.description == "Clear and specific.");
  CHECK_FALSE(answer.clamped);
}

TEST_CASE("code fences, prose and other objects around the critique are skipped", "[critique]") {
  CHECK(parsed("```json\n{\"score\": 6, \"description\": \"ok\"}\n```").score == 6);
  CHECK(parsed("Here is my verdict: {\"score\": 3, \"description\": \"vague\"} Hope this helps!").score == 3);
  // A first object without a score is not the answer; braces inside strings do not confuse the scan.
  const CritiqueAnswer answer =
      parsed(R"(notes {"x": "{not it}"} then {"description": "has } brace", "score": 9})");
  CHECK(answer.score == 9);
  CHECK(answer.description == "has } brace");
}

TEST_CASE("scores given as strings are read, out-of-range scores are clamped", "[critique]") {
  CHECK(parsed(R"({"score": "8", "description": "d"})").score == 8);
  CHECK(parsed(R"({"score": " 7.5 ", "description": "d"})").score == 7.5);
  CHECK(parsed(R"({"score": "8/10", "description": "d"})").score == 8);
  const CritiqueAnswer high = parsed(R"({"score": 12, "description": "d"})");
  CHECK(high.score == 10);
  CHECK(high.clamped);
  const CritiqueAnswer low = parsed(R"({"score": -1, "description": "d"})");
  CHECK(low.score == 0);
  CHECK(low.clamped);
}

TEST_CASE("a missing description reads as empty and the description is trimmed", "[critique]") {
  CHECK(parsed(R"({"score": 5})").description.empty());
  CHECK(parsed(R"({"score": 5, "description": null})").description.empty());
  CHECK(parsed(R"({"score": 5, "description": "  spaced  "})").description == "spaced");
}

TEST_CASE("answers without a usable score are errors that quote the answer", "[critique]") {
  for (std::string_view text :
       {"", "no json here", R"({"description": "no score"})", R"({"score": "high"})", R"({"score": null})",
        R"({"score": [7]})", R"({"score": 5, "description": 3})", R"({"score": 5)", "{\"score\": \"nan\"}"}) {
    auto answer = parse_critique_answer(text);
    INFO(text);
    REQUIRE_FALSE(answer.ok());
    CHECK(answer.error().code == common::ErrorCode::kUpstreamError);
    CHECK_THAT(answer.error().message, Catch::StartsWith("The critic's answer"));
  }
}

TEST_CASE("a long bad answer is quoted only in part", "[critique]") {
  const std::string text(5000, 'a');
  auto answer = parse_critique_answer(text);
  REQUIRE_FALSE(answer.ok());
  REQUIRE(answer.error().details.size() == 1);
  CHECK(answer.error().details[0].second.size() < 200);
}

}  // namespace
}  // namespace rally::critique
