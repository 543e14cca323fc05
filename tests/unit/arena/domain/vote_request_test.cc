#include "services/arena/domain/vote_request.h"

#include <catch2/catch.hpp>

namespace rally::arena {
namespace {

const std::vector<std::string> kKnown = {"gpt-3.5-turbo", "gpt-4", "gpt-4-turbo", "gpt-4o"};

VoteInput input(std::optional<std::string> a, std::optional<std::string> b,
                std::optional<std::string> result) {
  return VoteInput{std::move(a), std::move(b), std::move(result)};
}

std::string detail(const common::Error& error, const std::string& key) {
  for (const auto& [name, value] : error.details) {
    if (name == key) return value;
  }
  return "";
}

void check_invalid(const VoteInput& vote, const std::string& field = "") {
  const auto result = validate_vote(vote, kKnown);
  REQUIRE_FALSE(result.ok());
  CHECK(result.error().code == common::ErrorCode::kInvalidRequest);
  CHECK(result.error().message == "Invalid input");
  CHECK(detail(result.error(), "field") == field);
}

TEST_CASE("A win for either model and a draw are valid votes") {
  const auto a_wins = validate_vote(input("gpt-4", "gpt-4o", "gpt-4"), kKnown);
  REQUIRE(a_wins.ok());
  CHECK(a_wins->model_a == "gpt-4");
  CHECK(a_wins->model_b == "gpt-4o");
  CHECK(a_wins->outcome == VoteOutcome::kModelA);
  const auto b_wins = validate_vote(input("gpt-4", "gpt-4o", "gpt-4o"), kKnown);
  REQUIRE(b_wins.ok());
  CHECK(b_wins->outcome == VoteOutcome::kModelB);
  const auto draw = validate_vote(input("gpt-4", "gpt-4o", "draw"), kKnown);
  REQUIRE(draw.ok());
  CHECK(draw->outcome == VoteOutcome::kTie);
}

TEST_CASE("A missing or empty field is Invalid input naming the first one") {
  check_invalid(input(std::nullopt, "gpt-4o", "draw"), "modelA");
  check_invalid(input("gpt-4", std::nullopt, "draw"), "modelB");
  check_invalid(input("gpt-4", "gpt-4o", std::nullopt), "result");
  check_invalid(input(std::nullopt, std::nullopt, std::nullopt), "modelA");
  check_invalid(input("gpt-4", std::nullopt, std::nullopt), "modelB");
  check_invalid(input("", "gpt-4o", "draw"), "modelA");
  check_invalid(input("gpt-4", "", "draw"), "modelB");
  check_invalid(input("gpt-4", "gpt-4o", ""), "result");
}

TEST_CASE("A model against itself is Invalid input") {
  check_invalid(input("gpt-4", "gpt-4", "gpt-4"));
  check_invalid(input("gpt-4", "gpt-4", "draw"));
  check_invalid(input("unknown", "unknown", "draw"));  // input errors before unknown models
}

TEST_CASE("A result that is neither model nor 'draw' is Invalid input") {
  check_invalid(input("gpt-4", "gpt-4o", "gpt-3.5-turbo"), "result");
  check_invalid(input("gpt-4", "gpt-4o", "tie"), "result");
  check_invalid(input("gpt-4", "gpt-4o", "Draw"), "result");
  check_invalid(input("gpt-4", "gpt-4o", "GPT-4"), "result");
  check_invalid(input("gpt-4", "gpt-4o", " gpt-4"), "result");
  check_invalid(input("nope", "gpt-4o", "something"), "result");  // input errors before unknown models
}

TEST_CASE("An unknown model is Model not found") {
  for (const VoteInput& vote : {input("nope", "gpt-4o", "nope"), input("gpt-4", "nope", "draw"),
                                input("nope", "other", "draw"), input("GPT-4", "gpt-4o", "draw")}) {
    const auto result = validate_vote(vote, kKnown);
    REQUIRE_FALSE(result.ok());
    CHECK(result.error().code == common::ErrorCode::kModelNotFound);
    CHECK(result.error().message == "Model not found");
    CHECK(detail(result.error(), "model") == (*vote.model_a == "gpt-4" ? "nope" : *vote.model_a));
  }
  const auto nothing_known = validate_vote(input("gpt-4", "gpt-4o", "draw"), {});
  REQUIRE_FALSE(nothing_known.ok());
  CHECK(nothing_known.error().code == common::ErrorCode::kModelNotFound);
}

TEST_CASE("The error codes map to the seed's HTTP statuses") {
  CHECK(common::info(common::ErrorCode::kInvalidRequest).http_status == 400);
  CHECK(common::info(common::ErrorCode::kModelNotFound).http_status == 404);
  CHECK(common::info(common::ErrorCode::kModelNotFound).rest_code == "MODEL_NOT_FOUND");
}

}  // namespace
}  // namespace rally::arena
