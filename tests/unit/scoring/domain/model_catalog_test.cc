#include "services/scoring/domain/model_catalog.h"

#include <catch2/catch.hpp>
#include <fstream>
#include <sstream>

namespace rally::scoring {
namespace {

std::string read_snapshot() {
  std::ifstream file(std::string(RALLY_SOURCE_DIR) + "/deploy/data/models-dev-snapshot.json",
                     std::ios::binary);
  REQUIRE(file.good());
  std::ostringstream text;
  text << file.rdbuf();
  return text.str();
}

const ModelCatalog& snapshot() {
  static const ModelCatalog catalog = parse_models_dev(read_snapshot()).value();
  return catalog;
}

constexpr std::string_view kSmallDocument = R"json({
  "_source": {"commit": "abc123"},
  "_retrieved": "2026-11-22",
  "openai": {"id": "openai", "name": "OpenAI", "models": {
    "gpt-4o": {"id": "gpt-4o", "name": "GPT-4o", "family": "gpt", "attachment": true, "reasoning": false,
               "tool_call": true, "structured_output": true, "knowledge": "2023-09",
               "release_date": "2024-05-13", "last_updated": "2024-08-06",
               "modalities": {"input": ["text", "image"], "output": ["text"]}, "open_weights": false,
               "cost": {"input": 2.5, "output": 10}, "limit": {"context": 128000, "output": 16384}},
    "GPT-Odd": {"name": 7, "cost": "free", "limit": {"context": -5, "output": 1.5e3},
                "modalities": {"input": "text"}, "reasoning": "yes", "release_date": 20240101},
    "broken": "not an object",
    "": {"name": "no id"}
  }},
  "azure": {"models": {
    "gpt-4o": {"name": "GPT-4o (Azure)", "cost": {"input": 0, "output": 0}, "limit": {"context": 128000}}
  }},
  "302ai": {"models": {"gpt-4o": {"name": "GPT-4o (302)"}, "Shared-Model": {"name": "S"}}},
  "groq": {"models": {"openai/gpt-oss-120b": {"name": "GPT OSS"}, "shared-model": {"name": "s"}}},
  "empty": {"name": "no models"},
  "not-a-provider": [1, 2, 3]
})json";

TEST_CASE("Parsing a small models.dev document") {
  const auto parsed = parse_models_dev(kSmallDocument);
  REQUIRE(parsed.ok());
  const ModelCatalog& c = parsed.value();
  CHECK(c.provider_count == 5);
  CHECK(c.skipped_models == 2);
  CHECK(c.models.size() == 7);
  CHECK(c.source_commit == "abc123");
  CHECK(c.retrieved == "2026-11-22");

  const ModelRecord& gpt = c.models.at("openai/gpt-4o");
  CHECK(gpt.provider == "openai");
  CHECK(gpt.model_id == "gpt-4o");
  CHECK(gpt.name == "GPT-4o");
  CHECK(gpt.family == "gpt");
  CHECK(gpt.data_source == "models.dev");
  CHECK(gpt.inputs.input_usd_per_1m_tokens == 2.5);
  CHECK(gpt.inputs.output_usd_per_1m_tokens == 10.0);
  CHECK(gpt.inputs.context_window_tokens == 128000);
  CHECK(gpt.inputs.max_output_tokens == 16384);
  CHECK(gpt.inputs.release_date == "2024-05-13");
  CHECK(gpt.inputs.last_updated == "2024-08-06");
  CHECK(gpt.inputs.knowledge_cutoff == "2023-09");
  CHECK(gpt.inputs.attachment);
  CHECK_FALSE(gpt.inputs.reasoning);
  CHECK(gpt.inputs.tool_call);
  CHECK(gpt.inputs.structured_output);
  CHECK(gpt.inputs.input_modalities == std::vector<std::string>{"text", "image"});
  CHECK(gpt.inputs.output_modalities == std::vector<std::string>{"text"});
  CHECK(gpt.inputs.performance_source == PerformanceSource::kDefault);
  CHECK(gpt.inputs.time_to_first_token_ms == kDefaultTimeToFirstTokenMs);

  // Wrong types count as missing; the model is kept.
  const ModelRecord& odd = c.models.at("openai/GPT-Odd");
  CHECK(odd.name == "GPT-Odd");
  CHECK_FALSE(odd.inputs.input_usd_per_1m_tokens);
  CHECK(odd.inputs.context_window_tokens == 0);
  CHECK(odd.inputs.max_output_tokens == 1500);
  CHECK(odd.inputs.input_modalities.empty());
  CHECK_FALSE(odd.inputs.reasoning);
  CHECK(odd.inputs.release_date.empty());

  const ModelRecord& azure = c.models.at("azure/gpt-4o");
  CHECK(azure.inputs.input_usd_per_1m_tokens == 0.0);
  CHECK(azure.inputs.max_output_tokens == 0);
  CHECK_FALSE(c.models.at("302ai/gpt-4o").inputs.input_usd_per_1m_tokens);
}

TEST_CASE("Documents that are not JSON objects are errors") {
  for (const char* bad : {"", "{", "not json", "[]", "42", "\"text\"", "null", "{\"a\":1}x"}) {
    INFO(bad);
    const auto parsed = parse_models_dev(bad);
    REQUIRE_FALSE(parsed.ok());
    CHECK(parsed.error().code == common::ErrorCode::kUpstreamError);
  }
  const auto empty = parse_models_dev("{}");
  REQUIRE(empty.ok());
  CHECK(empty->models.empty());
}

TEST_CASE("Resolving keys, bare ids by provider preference, and case") {
  const ModelCatalog c = parse_models_dev(kSmallDocument).value();
  auto r = resolve_model(c, "azure/gpt-4o");
  REQUIRE(r);
  CHECK(r->record->key == "azure/gpt-4o");
  CHECK(r->by == ResolvedBy::kKey);

  r = resolve_model(c, "gpt-4o");  // openai is first-party, ahead of 302ai and azure
  REQUIRE(r);
  CHECK(r->record->key == "openai/gpt-4o");
  CHECK(r->by == ResolvedBy::kProviderPreference);

  r = resolve_model(c, "GPT-4O");
  REQUIRE(r);
  CHECK(r->record->key == "openai/gpt-4o");

  r = resolve_model(c, "OpenAI/GPT-4o");
  REQUIRE(r);
  CHECK(r->record->key == "openai/gpt-4o");
  CHECK(r->by == ResolvedBy::kKeyIgnoringCase);

  // No preferred provider holds it: alphabetical provider id.
  r = resolve_model(c, "shared-model");
  REQUIRE(r);
  CHECK(r->record->key == "groq/shared-model");  // exact case beats 302ai's "Shared-Model"
  r = resolve_model(c, "SHARED-MODEL");
  REQUIRE(r);
  CHECK(r->record->key == "302ai/Shared-Model");

  // A model id holding a slash: not a key (no provider "openai" model "gpt-oss-120b"), so a bare id.
  r = resolve_model(c, "openai/gpt-oss-120b");
  REQUIRE(r);
  CHECK(r->record->key == "groq/openai/gpt-oss-120b");

  CHECK_FALSE(resolve_model(c, "unknown"));
  CHECK_FALSE(resolve_model(c, ""));
  CHECK_FALSE(resolve_model(c, "openai/"));
}

TEST_CASE("Catalog models are always present and resolvable by public name") {
  ModelCatalog c = parse_models_dev(kSmallDocument).value();
  merge_catalog(c, {
                       {.name = "gpt-4o-prod",
                        .display_name = "GPT-4o",
                        .provider = "openai",
                        .upstream_model_id = "gpt-4o",
                        .input_usd_per_1m_tokens = 99,
                        .output_usd_per_1m_tokens = 99},
                       {.name = "in-house",
                        .display_name = "In House",
                        .provider = "rally",
                        .input_usd_per_1m_tokens = 1,
                        .output_usd_per_1m_tokens = 2},
                       {.name = "odd",
                        .provider = "openai",
                        .models_dev_key = "openai/GPT-Odd",
                        .input_usd_per_1m_tokens = 3},
                   });
  const ModelRecord& gpt = c.models.at("openai/gpt-4o");
  CHECK(gpt.data_source == "models.dev");
  CHECK(gpt.inputs.input_usd_per_1m_tokens == 2.5);  // models.dev's price stays

  const ModelRecord& house = c.models.at("rally/in-house");
  CHECK(house.data_source == "catalog");
  CHECK(house.name == "In House");
  CHECK(house.provider == "rally");
  CHECK(house.model_id == "in-house");
  CHECK(house.inputs.input_usd_per_1m_tokens == 1.0);
  CHECK(house.inputs.output_usd_per_1m_tokens == 2.0);
  CHECK(house.inputs.release_date.empty());

  CHECK(c.models.at("openai/GPT-Odd").inputs.input_usd_per_1m_tokens == 3.0);  // filled where missing

  auto r = resolve_model(c, "gpt-4o-prod");
  REQUIRE(r);
  CHECK(r->record->key == "openai/gpt-4o");
  CHECK(r->by == ResolvedBy::kCatalogName);
  r = resolve_model(c, "in-house");
  REQUIRE(r);
  CHECK(r->record->key == "rally/in-house");
  // Models the catalog adds are indexed like parsed ones: by key ignoring case, and by bare id.
  r = resolve_model(c, "OPENAI/gpt-odd");
  REQUIRE(r);
  CHECK(r->record->key == "openai/GPT-Odd");
  CHECK(r->by == ResolvedBy::kKeyIgnoringCase);
  r = resolve_model(c, "gpt-odd");
  REQUIRE(r);
  CHECK(r->record->key == "openai/GPT-Odd");
  CHECK(r->by == ResolvedBy::kProviderPreference);
}

TEST_CASE("A model added later takes a bare id over when its provider is preferred") {
  ModelCatalog c = parse_models_dev(kSmallDocument).value();
  REQUIRE(resolve_model(c, "shared-model")->record->key == "groq/shared-model");
  merge_catalog(c, {{.name = "house-shared", .provider = "anthropic", .upstream_model_id = "shared-model"}});
  auto r = resolve_model(c, "shared-model");
  REQUIRE(r);
  CHECK(r->record->key == "anthropic/shared-model");
  CHECK(r->by == ResolvedBy::kProviderPreference);
  r = resolve_model(c, "SHARED-MODEL");  // ignoring case too
  REQUIRE(r);
  CHECK(r->record->key == "anthropic/shared-model");
  // A less preferred provider added afterwards changes nothing.
  merge_catalog(c, {{.name = "other-shared", .provider = "zzz", .upstream_model_id = "shared-model"}});
  CHECK(resolve_model(c, "shared-model")->record->key == "anthropic/shared-model");
}

TEST_CASE("A model's aliases are the other ids that resolve to it") {
  ModelCatalog c = parse_models_dev(kSmallDocument).value();
  merge_catalog(c, {{.name = "gpt-4o-prod", .provider = "openai", .upstream_model_id = "gpt-4o"},
                    {.name = "fast", .provider = "openai", .upstream_model_id = "gpt-4o"}});
  CHECK(aliases_of(c, "openai/gpt-4o") == std::vector<std::string>{"fast", "gpt-4o", "gpt-4o-prod"});
  // Provider preference sends the bare id elsewhere: no alias.
  CHECK(aliases_of(c, "azure/gpt-4o").empty());
  // A model id holding a slash is an alias of the only provider that has it.
  CHECK(aliases_of(c, "groq/openai/gpt-oss-120b") == std::vector<std::string>{"openai/gpt-oss-120b"});
  // Only the exact case: "SHARED-MODEL" reaches 302ai's model, but clients never see it as an alias.
  CHECK(aliases_of(c, "302ai/Shared-Model") == std::vector<std::string>{"Shared-Model"});
  CHECK(aliases_of(c, "groq/shared-model") == std::vector<std::string>{"shared-model"});
  CHECK(aliases_of(c, "nobody/nothing").empty());
}

TEST_CASE("The committed models.dev snapshot") {
  const ModelCatalog& c = snapshot();
  CHECK(c.provider_count == 144);
  CHECK(c.models.size() == 3977);
  CHECK(c.skipped_models == 0);
  CHECK(c.source_commit == "f3fc692299671838c7c65fd8126bf84d81a2e817");
  CHECK(c.retrieved == "2026-11-22");

  const ModelRecord& sonnet = c.models.at("anthropic/claude-sonnet-4-5");
  CHECK(sonnet.name == "Claude Sonnet 4.5 (latest)");
  CHECK(sonnet.family == "claude-sonnet");
  CHECK(sonnet.inputs.input_usd_per_1m_tokens == 3.0);
  CHECK(sonnet.inputs.output_usd_per_1m_tokens == 15.0);
  CHECK(sonnet.inputs.context_window_tokens == 200000);
  CHECK(sonnet.inputs.max_output_tokens == 64000);
  CHECK(sonnet.inputs.release_date == "2025-09-29");
  CHECK(sonnet.inputs.knowledge_cutoff == "2025-07-31");
  CHECK(sonnet.inputs.reasoning);
  CHECK(sonnet.inputs.tool_call);
  CHECK_FALSE(sonnet.inputs.structured_output);
  CHECK(sonnet.inputs.input_modalities == std::vector<std::string>{"text", "image", "pdf"});

  std::size_t without_price = 0;
  for (const auto& [key, record] : c.models) {
    if (!record.inputs.input_usd_per_1m_tokens && !record.inputs.output_usd_per_1m_tokens) ++without_price;
  }
  CHECK(without_price == 378);

  // gpt-4o is listed under 7 providers; the bare id picks OpenAI's.
  const auto r = resolve_model(c, "gpt-4o");
  REQUIRE(r);
  CHECK(r->record->key == "openai/gpt-4o");
  const auto sonnet_bare = resolve_model(c, "claude-sonnet-4-5");
  REQUIRE(sonnet_bare);
  CHECK(sonnet_bare->record->key == "anthropic/claude-sonnet-4-5");
}

}  // namespace
}  // namespace rally::scoring
