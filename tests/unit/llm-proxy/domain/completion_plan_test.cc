#include "services/llm-proxy/domain/completion_plan.h"

#include <catch2/catch.hpp>

namespace rally::llm_proxy {
namespace {

using namespace std::chrono_literals;

// Built directly rather than parsed: parse_catalog refuses unknown and self fallbacks, and the planner must
// still cope with a catalog that has them.
Catalog test_catalog() {
  const auto model = [](std::string name, ProviderKind provider) {
    CatalogModel entry;
    entry.name = name;
    entry.upstream_model = std::move(name);
    entry.provider = provider;
    entry.base_url = "https://example.com";
    return entry;
  };
  CatalogModel a = model("a", ProviderKind::kOpenAi);
  a.upstream_model = "a-2024";
  a.fallbacks = {"b", "disabled", "missing", "a", "c", "b"};
  a.default_max_tokens = 777;
  CatalogModel disabled = model("disabled", ProviderKind::kOpenAi);
  disabled.enabled = false;
  return Catalog(
      {a, model("b", ProviderKind::kAnthropic), model("c", ProviderKind::kOpenAiCompatible), disabled});
}

CompletionInput valid_input() {
  CompletionInput input;
  input.model = "a";
  input.turns = {{ChatRole::kSystem, "Be brief."}, {ChatRole::kUser, "Hello"}};
  return input;
}

std::string field_of(const common::Error& error) {
  for (const auto& [key, value] : error.details) {
    if (key == "field") return value;
  }
  return "";
}

TEST_CASE("validate_completion resolves enabled models") {
  const Catalog catalog = test_catalog();
  const auto model = validate_completion(catalog, valid_input());
  REQUIRE(model.ok());
  CHECK(model.value()->name == "a");
}

TEST_CASE("Unknown and disabled models are rejected with the available models named") {
  const Catalog catalog = test_catalog();
  for (const std::string name : {"nope", "disabled", ""}) {
    CompletionInput input = valid_input();
    input.model = name;
    const auto result = validate_completion(catalog, input);
    REQUIRE_FALSE(result.ok());
    CHECK(result.error().code == common::ErrorCode::kInvalidRequest);
    CHECK_THAT(result.error().message, Catch::Contains("Available models: a, b, c"));
    CHECK(field_of(result.error()) == "model");
  }
}

TEST_CASE("Bad parameters are rejected naming the field") {
  const Catalog catalog = test_catalog();
  const auto field_rejected = [&](auto change) {
    CompletionInput input = valid_input();
    change(input);
    const auto result = validate_completion(catalog, input);
    REQUIRE_FALSE(result.ok());
    return field_of(result.error());
  };
  CHECK(field_rejected([](CompletionInput& in) { in.turns.clear(); }) == "messages");
  CHECK(field_rejected([](CompletionInput& in) {
          in.turns = {{ChatRole::kSystem, "only system"}};
        }) == "messages");
  CHECK(field_rejected([](CompletionInput& in) { in.turns[1].content = "\xff\xfe"; }) == "messages");
  CHECK(field_rejected([](CompletionInput& in) { in.temperature = 2.5; }) == "temperature");
  CHECK(field_rejected([](CompletionInput& in) { in.temperature = -0.1; }) == "temperature");
  CHECK(field_rejected([](CompletionInput& in) { in.temperature = std::nan(""); }) == "temperature");
  CHECK(field_rejected([](CompletionInput& in) { in.top_p = 1.5; }) == "top_p");
  CHECK(field_rejected([](CompletionInput& in) { in.max_tokens = 0; }) == "max_tokens");
  CHECK(field_rejected([](CompletionInput& in) { in.max_tokens = 10'000'000; }) == "max_tokens");
  CHECK(field_rejected([](CompletionInput& in) { in.stop = {"a", "b", "c", "d", "e"}; }) == "stop");
  CHECK(field_rejected([](CompletionInput& in) { in.stop = {""}; }) == "stop");
}

TEST_CASE("Candidates are the model then its enabled, known fallbacks, each once") {
  const Catalog catalog = test_catalog();
  const CatalogModel& a = *catalog.find("a");
  const auto names = [](const std::vector<const CatalogModel*>& models) {
    std::vector<std::string> out;
    for (const CatalogModel* model : models) out.push_back(model->name);
    return out;
  };
  CHECK(names(candidate_models(catalog, a, true, {})) == std::vector<std::string>{"a", "b", "c"});
  CHECK(names(candidate_models(catalog, a, false, {})) == std::vector<std::string>{"a"});
  const auto b_cooling = [](const CatalogModel& model) { return model.name == "b"; };
  CHECK(names(candidate_models(catalog, a, true, b_cooling)) == std::vector<std::string>{"a", "c"});
  const auto all_cooling = [](const CatalogModel&) { return true; };
  CHECK(candidate_models(catalog, a, true, all_cooling).empty());
}

TEST_CASE("The upstream completion uses the upstream id and the catalog's default max_tokens") {
  const Catalog catalog = test_catalog();
  CompletionInput input = valid_input();
  input.stream = true;
  input.json_mode = true;
  input.stop = {"END"};
  ChatCompletion completion = upstream_completion(input, *catalog.find("a"));
  CHECK(completion.upstream_model == "a-2024");
  CHECK(completion.max_tokens == 777);
  CHECK(completion.turns == input.turns);
  CHECK(completion.stream);
  CHECK(completion.json_mode);
  CHECK(completion.stop == std::vector<std::string>{"END"});
  input.max_tokens = 5;
  CHECK(upstream_completion(input, *catalog.find("a")).max_tokens == 5);
}

TEST_CASE("next_step retries before output, falls back, and never retries after output") {
  RetryPolicy policy;
  policy.max_attempts = 3;
  policy.base_delay = 100ms;
  std::mt19937_64 random(7);
  const AttemptState first{.attempt_on_model = 1, .more_models = true, .time_left = std::nullopt};

  const NextStep retry = next_step(policy, FailureKind::kServerError, false, std::nullopt, first, random);
  REQUIRE(std::holds_alternative<RetrySameModel>(retry));
  CHECK(std::get<RetrySameModel>(retry).delay <= 100ms);

  // Retry-After is a lower bound on the wait.
  const NextStep honoured = next_step(policy, FailureKind::kRateLimited, false, 2000ms, first, random);
  REQUIRE(std::holds_alternative<RetrySameModel>(honoured));
  CHECK(std::get<RetrySameModel>(honoured).delay == 2000ms);

  // Output already sent: nothing may be repeated, not even on another model.
  CHECK(std::holds_alternative<GiveUp>(
      next_step(policy, FailureKind::kServerError, true, std::nullopt, first, random)));
  CHECK(std::holds_alternative<GiveUp>(
      next_step(policy, FailureKind::kCancelled, false, std::nullopt, first, random)));

  // Retries used up: the next model; none left: give up.
  const AttemptState last_try{.attempt_on_model = 3, .more_models = true, .time_left = std::nullopt};
  CHECK(std::holds_alternative<TryNextModel>(
      next_step(policy, FailureKind::kServerError, false, std::nullopt, last_try, random)));
  const AttemptState nothing_left{.attempt_on_model = 3, .more_models = false, .time_left = std::nullopt};
  CHECK(std::holds_alternative<GiveUp>(
      next_step(policy, FailureKind::kServerError, false, std::nullopt, nothing_left, random)));

  // A client error is not retried, but another model may accept the request.
  CHECK(std::holds_alternative<TryNextModel>(
      next_step(policy, FailureKind::kClientError, false, std::nullopt, first, random)));

  // A wait that would overrun the deadline is not taken.
  const AttemptState short_deadline{.attempt_on_model = 1, .more_models = false, .time_left = 500ms};
  CHECK(std::holds_alternative<GiveUp>(
      next_step(policy, FailureKind::kRateLimited, false, 2000ms, short_deadline, random)));
}

TEST_CASE("Token estimates and tokens per second") {
  CHECK(estimate_tokens("") == 0);
  CHECK(estimate_tokens("abcd") == 1);
  CHECK(estimate_tokens("abcde") == 2);
  CHECK(estimate_tokens("\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9") == 1);  // four code points, eight bytes
  CHECK(estimate_prompt_tokens({{ChatRole::kUser, "abcdefgh"}}) == 3 + 4 + 2);

  CHECK(tokens_per_second(101, 1000ms, 2000ms) == Approx(101.0));
  CHECK(tokens_per_second(50, std::nullopt, 2000ms) == Approx(25.0));
  CHECK_FALSE(tokens_per_second(1, 1000ms, 2000ms));
  CHECK_FALSE(tokens_per_second(10, 2000ms, 2000ms));
}

}  // namespace
}  // namespace rally::llm_proxy
