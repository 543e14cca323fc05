#include "services/llm-proxy/domain/catalog.h"

#include <catch2/catch.hpp>
#include <fstream>
#include <map>
#include <sstream>
#include <string>

namespace rally::llm_proxy {
namespace {

std::string shipped_catalog_text() {
  std::ifstream in(RALLY_SOURCE_DIR "/deploy/models.json");
  REQUIRE(in.good());
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// One valid model entry with `field` replaced by `value` (raw JSON), or removed when value is empty.
std::string catalog_with(const std::string& field, const std::string& value) {
  std::map<std::string, std::string> fields{
      {"name", "\"m\""},
      {"provider", "\"openai\""},
      {"base_url", "\"https://api.example.com\""},
      {"price",
       R"({"usd_per_1k_tokens": 0.01, "input_usd_per_1m_tokens": 1, "output_usd_per_1m_tokens": 2})"}};
  if (value.empty()) {
    fields.erase(field);
  } else {
    fields[field] = value;
  }
  std::string entry = "{";
  for (const auto& [key, raw] : fields) entry += (entry.size() > 1 ? "," : "") + ("\"" + key + "\":" + raw);
  return R"({"models": [)" + entry + "}]}";
}

std::string error_of(const std::string& text) {
  const auto result = parse_catalog(text);
  REQUIRE_FALSE(result.ok());
  CHECK(result.error().code == common::ErrorCode::kInvalidRequest);
  return result.error().message;
}

}  // namespace

TEST_CASE("the shipped catalog parses and has the seed's models and prices") {
  const auto catalog = parse_catalog(shipped_catalog_text());
  REQUIRE(catalog.ok());
  const std::map<std::string, double> seed_prices{
      {"gpt-3.5-turbo", 0.002}, {"gpt-4", 0.06}, {"gpt-4-turbo", 0.03}, {"gpt-4o", 0.05}};
  for (const auto& [name, price] : seed_prices) {
    const CatalogModel* model = catalog->find(name);
    REQUIRE(model != nullptr);
    CHECK(model->provider == ProviderKind::kOpenAi);
    CHECK(model->price.usd_per_1k_tokens == Approx(price));
  }
  const CatalogModel* sonnet = catalog->find("claude-3-5-sonnet-20240620");
  REQUIRE(sonnet != nullptr);
  CHECK(sonnet->provider == ProviderKind::kAnthropic);
  CHECK(sonnet->price.input_usd_per_1m_tokens == Approx(3));  // models.dev snapshot
  CHECK(sonnet->price.output_usd_per_1m_tokens == Approx(15));
  int newer_claude = 0;
  for (const CatalogModel& model : catalog->models()) {
    if (model.provider == ProviderKind::kAnthropic && model.name != "claude-3-5-sonnet-20240620")
      ++newer_claude;
  }
  CHECK(newer_claude >= 2);
}

TEST_CASE("defaults fill what an entry leaves out") {
  const auto catalog = parse_catalog(catalog_with("enabled", ""));
  REQUIRE(catalog.ok());
  const CatalogModel& model = catalog->models().front();
  CHECK(model.display_name == "m");
  CHECK(model.upstream_model == "m");
  CHECK(model.enabled);
  CHECK(model.sampling_weight == 1.0);
  CHECK(model.default_max_tokens == 1024);
  CHECK(model.fallbacks.empty());
  CHECK_FALSE(model.simulated);
}

TEST_CASE("invalid catalogs are rejected with the model and field named") {
  CHECK_THAT(error_of("not json"), Catch::Contains("not valid JSON"));
  CHECK_THAT(error_of(R"({"models": []})"), Catch::Contains("catalog.models"));
  CHECK_THAT(error_of(catalog_with("name", "")), Catch::Contains("models[0].name: is required"));
  CHECK_THAT(error_of(catalog_with("provider", "\"cohere\"")),
             Catch::Contains("models[0] (m).provider: must be openai, anthropic or openai-compatible"));
  CHECK_THAT(error_of(catalog_with("base_url", "\"ftp://x\"")), Catch::Contains("(m).base_url"));
  CHECK_THAT(error_of(catalog_with("base_url", "\"https://api.example.com/v1\"")),
             Catch::Contains("without a path"));
  CHECK_THAT(error_of(catalog_with("price", R"({"input_usd_per_1m_tokens": -1})")),
             Catch::Contains("(m).price.input_usd_per_1m_tokens: must be a number >= 0"));
  CHECK_THAT(error_of(catalog_with("price", "")), Catch::Contains("(m).price: is required"));
  CHECK_THAT(error_of(catalog_with("sampling_weight", "\"heavy\"")), Catch::Contains("(m).sampling_weight"));
  CHECK_THAT(error_of(catalog_with("default_max_tokens", "1.5")), Catch::Contains("(m).default_max_tokens"));
  CHECK_THAT(error_of(catalog_with("fallbacks", R"(["m"])")), Catch::Contains("its own fallback"));
  CHECK_THAT(error_of(catalog_with("fallbacks", R"(["nope"])")), Catch::Contains("unknown model \"nope\""));
  const std::string twice =
      R"({"models": [{"name":"a","provider":"openai","base_url":"http://h","price":{}},)"
      R"({"name":"a","provider":"openai","base_url":"http://h","price":{}}]})";
  CHECK_THAT(error_of(twice), Catch::Contains("models[1] (a).name: is listed twice"));
}

TEST_CASE("models without a provider key are routed to the simulator") {
  auto catalog = parse_catalog(shipped_catalog_text());
  REQUIRE(catalog.ok());
  const auto only_openai_key = [](const std::string& name) -> std::optional<std::string> {
    if (name == "OPENAI_API_KEY") return "sk-test";
    return std::nullopt;
  };
  const std::size_t moved = catalog->route_to_simulator("http://127.0.0.1:50080", only_openai_key);
  CHECK(moved > 0);
  for (const CatalogModel& model : catalog->models()) {
    INFO(model.name);
    if (model.provider == ProviderKind::kAnthropic) {
      CHECK(model.simulated);
      CHECK(model.base_url == "http://127.0.0.1:50080");
    } else {
      CHECK_FALSE(model.simulated);
      CHECK(model.base_url == "https://api.openai.com");
    }
  }
}

TEST_CASE("cost follows the per-1M prices") {
  ModelPricing price;
  price.input_usd_per_1m_tokens = 2.5;
  price.output_usd_per_1m_tokens = 10;
  CHECK(completion_cost_usd(price, 1'000'000, 0) == Approx(2.5));
  CHECK(completion_cost_usd(price, 1000, 500) == Approx(0.0025 + 0.005));
  CHECK(completion_cost_usd(ModelPricing{}, 1000, 1000) == 0.0);
}

}  // namespace rally::llm_proxy
