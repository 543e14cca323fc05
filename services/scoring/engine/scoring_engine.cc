#include "services/scoring/engine/scoring_engine.h"

#include <google/protobuf/util/time_util.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <random>
#include <set>
#include <utility>

#include "services/scoring/domain/score_calculator.h"
#include "services/scoring/domain/score_format.h"
#include "services/scoring/domain/score_ranking.h"
#include "services/scoring/engine/score_messages.h"

namespace rally::scoring {
namespace {

using common::Error;
using common::ErrorCode;
using common::Result;
using google::protobuf::util::TimeUtil;

constexpr std::string_view kDefaultConfiguration = "default";
// Models a batch scores per transaction (their results and new scores are stored together): large enough
// that a commit is rare, small enough that a stop loses little and a chunk's locks are short.
constexpr std::size_t kBatchChunk = 100;
// A client's score and the stored one agree when they show the same one decimal.
constexpr double kScoreTolerance = 0.05 + 1e-9;

google::protobuf::Timestamp timestamp(std::chrono::system_clock::time_point time) {
  return TimeUtil::MicrosecondsToTimestamp(
      std::chrono::duration_cast<std::chrono::microseconds>(time.time_since_epoch()).count());
}

std::chrono::system_clock::time_point time_point(const google::protobuf::Timestamp& time) {
  return std::chrono::system_clock::time_point(
      std::chrono::microseconds(TimeUtil::TimestampToMicroseconds(time)));
}

Error model_not_found(std::string_view model_id) {
  return Error(ErrorCode::kModelNotFound, "Model with ID '" + std::string(model_id) + "' not found",
               {{"model_id", std::string(model_id)},
                {"suggestion",
                 "Please check the model ID and try again: provider/model (openai/gpt-4o) or a "
                 "bare id (gpt-4o)"}});
}

std::int64_t microseconds_of(const google::protobuf::Timestamp& time) {
  return TimeUtil::TimestampToMicroseconds(time);
}

std::string configuration_name_of(const v1::ScoringOptions& options) {
  return options.config_name().empty() ? std::string(kDefaultConfiguration) : options.config_name();
}

// The configuration's weights with the options' overrides; kInvalidRequest naming the field for an unknown
// or disabled configuration or bad weights.
Result<NormalizedWeights> weights_of_configuration(const Result<v1::ScoringConfiguration>& configuration,
                                                   const std::string& name,
                                                   const v1::ScoringOptions& options) {
  if (!configuration.ok()) {
    if (configuration.error().code != ErrorCode::kNotFound) return configuration.error();
    return Error(ErrorCode::kInvalidRequest, "Unknown scoring configuration '" + name + "'",
                 {{"field", "configuration.config_name"}, {"config", name}});
  }
  if (!configuration->enabled()) {
    return Error(ErrorCode::kInvalidRequest, "Scoring configuration '" + name + "' is disabled",
                 {{"field", "configuration.config_name"}, {"config", name}});
  }
  Result<NormalizedWeights> weights =
      resolve_weights(weights_of(configuration->weights()), overrides_of(options.weights()));
  if (!weights.ok()) {
    Error error = weights.error();
    for (auto& [key, value] : error.details) {
      if (key == "field") value = "configuration.weights." + value;
    }
    return error;
  }
  return weights;
}

std::string data_source_of(const ModelRecord& record, const ModelInputs& inputs) {
  std::string source = record.data_source;
  if (inputs.performance_source == PerformanceSource::kMeasured) source += "+measured";
  if (inputs.arena_rating) source += "+arena";
  return source;
}

StoredScore stored_score_of(const v1::ModelScore& score) {
  StoredScore stored;
  stored.model_id = score.model_id();
  stored.model_name = score.model_name();
  stored.overall = score.overall_score();
  stored.components = components_of(score.components());
  stored.last_updated_unix_seconds = TimeUtil::TimestampToSeconds(score.last_calculated());
  return stored;
}

ScoreCategory category_of(v1::ScoreCategory category) {
  switch (category) {
    case v1::SCORE_CATEGORY_SPEED:
      return ScoreCategory::kSpeed;
    case v1::SCORE_CATEGORY_EFFICIENCY:
      return ScoreCategory::kEfficiency;
    case v1::SCORE_CATEGORY_COST:
      return ScoreCategory::kCost;
    case v1::SCORE_CATEGORY_CAPABILITY:
      return ScoreCategory::kCapability;
    case v1::SCORE_CATEGORY_RECENCY:
      return ScoreCategory::kRecency;
    default:
      return ScoreCategory::kOverall;
  }
}

// What subscribers see differs: the rounded overall score, a rounded component, or the name.
bool visibly_changed(const v1::ModelScore& before, const v1::ModelScore& after) {
  const v1::ScoreComponents& a = before.components();
  const v1::ScoreComponents& b = after.components();
  return before.overall_score() != after.overall_score() || before.score_suffix() != after.score_suffix() ||
         before.model_name() != after.model_name() || a.speed_score() != b.speed_score() ||
         a.efficiency_score() != b.efficiency_score() || a.cost_score() != b.cost_score() ||
         a.capability_score() != b.capability_score() || a.recency_score() != b.recency_score();
}

std::string new_batch_id() {
  thread_local std::mt19937_64 random{std::random_device{}()};
  return "batch_" + std::to_string(random() >> 1);
}

}  // namespace

ScoringEngine::ScoringEngine(Stores stores, std::shared_ptr<const ModelCatalog> catalog,
                             EngineSettings settings, Clock clock, Announce announce)
    : stores_(stores),
      settings_(settings),
      clock_(std::move(clock)),
      announce_(std::move(announce)),
      catalog_(std::move(catalog)),
      configurations_(settings.cache_ttl,
                      [](const v1::ScoringConfiguration& c) { return microseconds_of(c.last_updated()); }),
      scores_(settings.cache_ttl,
              [](const v1::ModelScore& s) { return microseconds_of(s.last_calculated()); }) {}

void ScoringEngine::set_catalog(std::shared_ptr<const ModelCatalog> catalog) {
  std::lock_guard lock(catalog_mutex_);
  catalog_ = std::move(catalog);
}

std::shared_ptr<const ModelCatalog> ScoringEngine::catalog() const {
  std::lock_guard lock(catalog_mutex_);
  return catalog_;
}

void ScoringEngine::set_catalog_refresher(CatalogRefresher refresher) {
  std::lock_guard lock(catalog_mutex_);
  refresher_ = std::move(refresher);
}

std::optional<ScoringEngine::Resolved> ScoringEngine::find(std::string_view model_id) const {
  std::shared_ptr<const ModelCatalog> models = catalog();
  if (models == nullptr) return std::nullopt;
  const std::optional<Resolution> resolution = resolve_model(*models, model_id);
  if (!resolution) return std::nullopt;
  return Resolved{std::string(model_id), resolution->record, std::move(models)};
}

Result<ScoringEngine::Resolved> ScoringEngine::resolve(std::string_view model_id) const {
  if (std::optional<Resolved> found = find(model_id)) return std::move(*found);
  CatalogRefresher refresher;
  {
    std::lock_guard lock(catalog_mutex_);
    refresher = refresher_;
  }
  // A model models.dev added since the last sync: one fresh look (the refresher bounds how often).
  if (!model_id.empty() && refresher) {
    Result<bool> refreshed = refresher();
    if (!refreshed.ok()) {
      // A timeout is the request's answer (504); models.dev being unreachable otherwise leaves the id
      // unknown, with the reason beside the 404.
      if (refreshed.error().code == ErrorCode::kApiTimeout) {
        Error error = refreshed.error();
        error.details.emplace_back("model_id", std::string(model_id));
        return error;
      }
      Error error = model_not_found(model_id);
      error.details.emplace_back("models_dev", refreshed.error().message);
      return error;
    }
    if (refreshed.value()) {
      if (std::optional<Resolved> found = find(model_id)) return std::move(*found);
    }
  }
  return model_not_found(model_id);
}

Result<NormalizedWeights> ScoringEngine::weights_for(const v1::ScoringOptions& options) {
  const std::string name = configuration_name_of(options);
  return weights_of_configuration(configuration_named(name), name, options);
}

Result<v1::ScoringConfiguration> ScoringEngine::configuration_named(std::string_view name) {
  if (const auto kept = configurations_.find(name, clock_())) return *kept;
  Result<v1::ScoringConfiguration> configuration = stores_.configurations.get(name);
  if (configuration.ok()) configurations_.offer(name, configuration.value(), clock_());
  return configuration;
}

Result<std::optional<v1::ModelScore>> ScoringEngine::current_score(std::string_view key) {
  if (const auto kept = scores_.find(key, clock_())) return std::optional<v1::ModelScore>(*kept);
  Result<std::optional<v1::ModelScore>> stored = stores_.scores.current(key);
  if (stored.ok() && stored.value()) remember(*stored.value());
  return stored;
}

void ScoringEngine::remember(const v1::ModelScore& stored) {
  scores_.offer(stored.model_id(), stored, clock_());
}

Result<v1::ModelScore> ScoringEngine::score(const Resolved& model, const v1::ScoringOptions& options,
                                            bool force, const std::string& reason) {
  Result<NormalizedWeights> weights = weights_for(options);
  if (!weights.ok()) return weights.error();

  if (!force) {
    Result<std::optional<v1::ModelScore>> stored = current_score(model.record->key);
    if (!stored.ok()) return stored.error();
    if (stored.value() && still_answers(*stored.value(), weights.value())) {
      v1::ModelScore cached = std::move(*stored.value());
      cached.set_model_id(model.requested);
      cached.set_from_cache(true);
      return cached;
    }
  }
  Result<ScoreChange> change = store_new_score(model, weights.value(), reason);
  if (!change.ok()) return change.error();
  announce(model, change.value());
  v1::ModelScore score = std::move(change->score);
  score.set_model_id(model.requested);
  return score;
}

bool ScoringEngine::still_answers(const v1::ModelScore& stored, const NormalizedWeights& weights) const {
  return clock_() < time_point(stored.valid_until()) && stored.algorithm_version() == kAlgorithmVersion &&
         weights_of(stored.weights()) == weights.weights;
}

v1::ModelScore ScoringEngine::new_score(const Resolved& model, const NormalizedWeights& weights,
                                        const std::string& reason) const {
  const std::chrono::system_clock::time_point now = clock_();
  const ModelInputs& inputs = model.record->inputs;
  const auto reference = std::chrono::floor<std::chrono::seconds>(now);
  const ScoreResult result = calculate_score(inputs, weights, reference);

  v1::ModelScore score;
  score.set_model_id(model.record->key);
  score.set_model_name(model.record->name);
  score.set_overall_score(result.rounded_overall);
  score.set_score_suffix(result.score_suffix);
  *score.mutable_components() = to_message(result.rounded_components);
  *score.mutable_last_calculated() = timestamp(now);
  *score.mutable_valid_until() = timestamp(now + settings_.score_ttl);
  score.set_data_source(data_source_of(*model.record, inputs));
  score.set_calculation_hash(result.calculation_hash);
  *score.mutable_weights() = to_message(result.weights);
  score.set_weights_normalized(result.weights_normalized);
  *score.mutable_inputs() = to_message(inputs, reference);
  score.set_recalc_reason(reason);
  score.set_algorithm_version(result.algorithm_version);
  return score;
}

Result<ScoringEngine::ScoreChange> ScoringEngine::store_new_score(const Resolved& model,
                                                                  const NormalizedWeights& weights,
                                                                  const std::string& reason) {
  ScoreChange change;
  change.score = new_score(model, weights, reason);
  Result<std::optional<double>> replaced = stores_.scores.save(change.score);
  if (!replaced.ok()) return replaced.error();
  remember(change.score);
  change.previous_overall = replaced.value();
  return change;
}

void ScoringEngine::announce(const Resolved& model, const ScoreChange& change) const {
  if (!announce_) return;
  v1::ScoreUpdate update;
  *update.mutable_score() = change.score;
  if (change.previous_overall) update.set_previous_overall_score(*change.previous_overall);
  *update.mutable_timestamp() = change.score.last_calculated();
  for (std::string& alias : aliases_of(*model.catalog, model.record->key)) {
    update.add_model_aliases(std::move(alias));
  }
  announce_(update);
}

Result<RecalculationSummary> ScoringEngine::recalculate_all(const std::string& reason) {
  const std::shared_ptr<const ModelCatalog> models = catalog();
  Result<std::vector<v1::ModelScore>> stored = stores_.scores.all_current();
  if (!stored.ok()) return stored.error();
  std::map<std::string, const v1::ModelScore*, std::less<>> stored_by_key;
  for (const v1::ModelScore& score : stored.value()) stored_by_key.emplace(score.model_id(), &score);
  // Stored scores keep the weights they were computed with; the suite's own models are always scored,
  // first with the default configuration.
  std::set<std::string, std::less<>> keys;
  for (const auto& [key, score] : stored_by_key) keys.insert(key);
  if (models != nullptr) {
    for (const auto& [name, key] : models->aliases) keys.insert(key);
  }

  RecalculationSummary summary;
  std::optional<Result<NormalizedWeights>> default_weights;
  for (const std::string& key : keys) {
    const std::optional<Resolved> model = find(key);
    if (!model || model->record->key != key) {  // gone from the catalog: its last score stays
      ++summary.skipped;
      continue;
    }
    const auto stored_score = stored_by_key.find(key);
    NormalizedWeights weights;
    if (stored_score != stored_by_key.end()) {
      weights = {weights_of(stored_score->second->weights()), stored_score->second->weights_normalized()};
    } else {
      if (!default_weights) default_weights = weights_for(v1::ScoringOptions());
      if (!default_weights->ok()) return default_weights->error();
      weights = default_weights->value();
    }
    Result<ScoreChange> change = store_new_score(*model, weights, reason);
    if (!change.ok()) return change.error();
    ++summary.recalculated;
    if (stored_score == stored_by_key.end() || visibly_changed(*stored_score->second, change->score)) {
      announce(*model, change.value());
      ++summary.changed;
    }
  }
  return summary;
}

Result<v1::ModelScore> ScoringEngine::calculate(const v1::CalculateScoreRequest& request) {
  Result<Resolved> model = resolve(request.model_id());
  if (!model.ok()) return model.error();
  return score(model.value(), request.configuration(), request.force_recalculation(), "");
}

std::optional<Result<v1::ModelScore>> ScoringEngine::calculate_in_memory(
    const v1::CalculateScoreRequest& request) const {
  if (request.force_recalculation()) return std::nullopt;
  const std::optional<Resolved> model = find(request.model_id());
  if (!model) return std::nullopt;
  const std::chrono::system_clock::time_point now = clock_();
  const std::string name = configuration_name_of(request.configuration());
  const auto configuration = configurations_.find(name, now);
  if (!configuration) return std::nullopt;
  Result<NormalizedWeights> weights = weights_of_configuration(*configuration, name, request.configuration());
  if (!weights.ok()) return Result<v1::ModelScore>(weights.error());
  const auto stored = scores_.find(model->record->key, now);
  if (!stored || !still_answers(*stored, weights.value())) return std::nullopt;
  v1::ModelScore cached = *stored;
  cached.set_model_id(model->requested);
  cached.set_from_cache(true);
  return Result<v1::ModelScore>(std::move(cached));
}

Result<v1::ModelScore> ScoringEngine::get(std::string_view model_id) {
  Result<Resolved> model = resolve(model_id);
  if (!model.ok()) return model.error();
  Result<std::optional<v1::ModelScore>> stored = current_score(model->record->key);
  if (!stored.ok()) return stored.error();
  if (!stored.value()) {
    Error error = model_not_found(model_id);
    error.message = "Model '" + std::string(model_id) + "' has no score yet";
    error.details.back().second = "Calculate it first: POST /api/v1/models/{model_id}/score/calculate";
    return error;
  }
  v1::ModelScore score = std::move(*stored.value());
  score.set_model_id(std::string(model_id));
  score.set_from_cache(true);
  return score;
}

Result<v1::ModelScore> ScoringEngine::recalculate(const v1::RecalculateScoreRequest& request) {
  Result<Resolved> model = resolve(request.model_id());
  if (!model.ok()) return model.error();
  return score(model.value(), request.configuration(), true,
               request.reason().empty() ? std::string("manual recalculation") : request.reason());
}

Result<v1::Batch> ScoringEngine::run_batch(const v1::BatchCalculateRequest& request) {
  Result<v1::Batch> started = start_batch(request);
  if (!started.ok()) return started.error();
  return run_stored_batch(started->batch_id(), request, {});
}

Result<v1::Batch> ScoringEngine::start_batch(const v1::BatchCalculateRequest& request) {
  for (int attempt = 0;; ++attempt) {
    Result<v1::Batch> created = stores_.batches.create(new_batch_id(), request);
    if (created.ok() || created.error().code != ErrorCode::kConflict || attempt == 3) return created;
  }
}

Result<v1::Batch> ScoringEngine::run_stored_batch(const std::string& batch_id,
                                                  const v1::BatchCalculateRequest& request,
                                                  const std::vector<std::uint32_t>& done_positions) {
  const std::set<std::uint32_t> done(done_positions.begin(), done_positions.end());
  // The configuration is read once per batch; one that cannot be used fails every model, as it would fail
  // each single request.
  const Result<NormalizedWeights> weights = weights_for(request.configuration());
  if (!weights.ok() && weights.error().code == ErrorCode::kDatabaseError) return weights.error();

  std::vector<BatchPosition> chunk;
  std::set<std::string, std::less<>> chunk_keys;
  const auto flush = [&]() -> std::optional<Error> {
    std::optional<Error> error = run_batch_chunk(batch_id, request, weights, chunk);
    chunk.clear();
    chunk_keys.clear();
    return error;
  };
  const auto positions = static_cast<std::uint32_t>(request.model_ids_size());
  for (std::uint32_t position = 0; position < positions; ++position) {
    if (done.contains(position)) continue;
    Result<Resolved> model = resolve(request.model_ids(static_cast<int>(position)));
    // A model named twice (or by two of its ids) is scored twice, in order: never twice in one chunk.
    if (model.ok() && !chunk_keys.insert(model->record->key).second) {
      if (std::optional<Error> error = flush()) return *error;
      chunk_keys.insert(model->record->key);
    }
    chunk.push_back({position, std::move(model)});
    if (chunk.size() == kBatchChunk) {
      if (std::optional<Error> error = flush()) return *error;
    }
  }
  if (!chunk.empty()) {
    if (std::optional<Error> error = flush()) return *error;
  }
  return stores_.batches.finish(batch_id);
}

std::optional<Error> ScoringEngine::run_batch_chunk(const std::string& batch_id,
                                                    const v1::BatchCalculateRequest& request,
                                                    const Result<NormalizedWeights>& weights,
                                                    std::vector<BatchPosition>& chunk) {
  // Unless forced, stored scores that still answer are the results: one read for the chunk.
  std::map<std::string, v1::ModelScore, std::less<>> stored;
  if (weights.ok() && !request.force_recalculation()) {
    std::vector<std::string> keys;
    for (const BatchPosition& item : chunk) {
      if (item.model.ok()) keys.push_back(item.model->record->key);
    }
    Result<std::vector<v1::ModelScore>> current = stores_.scores.current_of(keys);
    if (!current.ok()) return current.error();
    for (v1::ModelScore& score : current.value()) {
      remember(score);
      std::string key = score.model_id();
      stored.emplace(std::move(key), std::move(score));
    }
  }

  std::vector<BatchStore::PositionResult> results;
  results.reserve(chunk.size());
  std::vector<v1::ModelScore> new_scores;
  std::vector<const Resolved*> new_models;
  for (const BatchPosition& item : chunk) {
    BatchStore::PositionResult& out = results.emplace_back();
    out.position = item.position;
    v1::BatchItemResult& result = out.result;
    result.set_model_id(request.model_ids(static_cast<int>(item.position)));
    const Error* error = !item.model.ok() ? &item.model.error() : !weights.ok() ? &weights.error() : nullptr;
    if (error != nullptr) {
      result.set_success(false);
      result.mutable_error()->set_code(std::string(common::info(error->code).rest_code));
      result.mutable_error()->set_message(error->message);
      continue;
    }
    const Resolved& model = item.model.value();
    v1::ModelScore score;
    if (const auto found = stored.find(model.record->key);
        found != stored.end() && still_answers(found->second, weights.value())) {
      score = std::move(found->second);
      score.set_from_cache(true);
    } else {
      score = new_score(model, weights.value(), "");
      new_scores.push_back(score);
      new_models.push_back(&model);
    }
    score.set_model_id(model.requested);
    result.set_success(true);
    *result.mutable_score() = std::move(score);
  }

  Result<std::vector<std::optional<double>>> replaced =
      stores_.batches.add_results(batch_id, results, new_scores);
  if (!replaced.ok()) return replaced.error();
  for (const v1::ModelScore& score : new_scores) remember(score);
  for (std::size_t i = 0; i < new_scores.size(); ++i) {
    announce(*new_models[i], ScoreChange{std::move(new_scores[i]), replaced.value()[i]});
  }
  return std::nullopt;
}

Result<v1::Batch> ScoringEngine::get_batch(std::string_view batch_id) {
  return stores_.batches.get(batch_id);
}

Result<std::vector<BatchStore::Unfinished>> ScoringEngine::unfinished_batches() {
  return stores_.batches.unfinished();
}

v1::AddSuffixResponse ScoringEngine::add_suffix(const v1::AddSuffixRequest& request) const {
  v1::AddSuffixResponse response;
  response.set_original_name(request.model_name());
  response.set_updated_name(scoring::add_suffix(request.model_name(), request.score()));
  response.set_score(round_to_tenth(clamp_score(request.score())));
  response.set_score_suffix(score_suffix(request.score()));
  return response;
}

v1::BatchUpdateNamesResponse ScoringEngine::batch_update_names(
    const v1::BatchUpdateNamesRequest& request) const {
  v1::BatchUpdateNamesResponse response;
  for (const auto& [name, model_score] : request.model_scores()) {
    (*response.mutable_results())[name] = scoring::add_suffix(name, model_score);
  }
  response.set_count(static_cast<std::uint32_t>(response.results_size()));
  return response;
}

Result<v1::CompareScoresResponse> ScoringEngine::compare(const v1::CompareScoresRequest& request) {
  std::vector<StoredScore> scores;
  for (const std::string& model_id : request.model_ids()) {
    Result<Resolved> model = resolve(model_id);
    if (!model.ok()) return model.error();
    Result<v1::ModelScore> scored = score(model.value(), {}, false, "");
    if (!scored.ok()) return scored.error();
    scores.push_back(stored_score_of(scored.value()));
  }
  const Comparison comparison = compare_scores(scores);
  v1::CompareScoresResponse response;
  for (const std::string& model_id : request.model_ids()) response.add_models(model_id);
  for (const ComparedModel& compared : comparison.results) {
    v1::ComparedModel& result = *response.add_results();
    result.set_model_id(compared.model_id);
    result.set_model_name(compared.model_name);
    result.set_overall_score(compared.overall_score);
    result.set_rank(compared.rank);
    *result.mutable_components() = to_message(compared.components);
  }
  response.set_best_model(comparison.best_model);
  response.set_analysis(comparison.analysis);
  return response;
}

Result<v1::GetRankingResponse> ScoringEngine::ranking(const v1::GetRankingRequest& request) {
  RankingQuery query;
  query.category = category_of(request.category());
  if (request.has_limit()) query.limit = request.limit();
  if (request.has_min_score()) query.min_score = request.min_score();
  if (request.has_max_score()) query.max_score = request.max_score();

  Result<std::vector<v1::ModelScore>> stored = stores_.scores.all_current();
  if (!stored.ok()) return stored.error();
  std::vector<StoredScore> scores;
  scores.reserve(stored->size());
  for (const v1::ModelScore& score : stored.value()) scores.push_back(stored_score_of(score));
  Result<Ranking> ranking = rank_scores(scores, query);
  if (!ranking.ok()) return ranking.error();

  v1::GetRankingResponse response;
  response.set_category(request.category() == v1::SCORE_CATEGORY_UNSPECIFIED ? v1::SCORE_CATEGORY_OVERALL
                                                                             : request.category());
  for (const RankedRow& row : ranking->rows) {
    v1::RankedModel& ranked = *response.add_rankings();
    ranked.set_rank(row.rank);
    ranked.set_model_id(row.model_id);
    ranked.set_model_name(row.model_name);
    ranked.set_overall_score(row.overall_score);
    ranked.set_score_suffix(row.score_suffix);
    ranked.set_category_score(row.category_score);
    *ranked.mutable_last_updated() = TimeUtil::SecondsToTimestamp(row.last_updated_unix_seconds);
  }
  response.set_total_models(static_cast<std::uint32_t>(ranking->total_models));
  response.set_filtered_models(static_cast<std::uint32_t>(ranking->filtered_models));
  return response;
}

Result<v1::ScoringConfiguration> ScoringEngine::configuration(std::string_view name) {
  return stores_.configurations.get(name.empty() ? kDefaultConfiguration : name);
}

Result<v1::ScoringConfiguration> ScoringEngine::put_configuration(
    const v1::ScoringConfiguration& configuration) {
  // Stored as given (the seed's configuration shows its weights as set); each calculation normalises.
  Result<NormalizedWeights> weights = normalize_weights(weights_of(configuration.weights()));
  if (!weights.ok()) {
    Error error = weights.error();
    for (auto& [key, value] : error.details) {
      if (key == "field") value = "weights." + value;
    }
    return error;
  }
  Result<v1::ScoringConfiguration> stored = stores_.configurations.put(configuration);
  if (stored.ok()) configurations_.offer(stored->config_name(), stored.value(), clock_());
  return stored;
}

Result<v1::ValidateScoreResponse> ScoringEngine::validate(const v1::ValidateScoreRequest& request) {
  Result<Resolved> model = resolve(request.model_id());
  if (!model.ok()) return model.error();
  Result<std::optional<v1::ModelScore>> stored = stores_.scores.current(model->record->key);
  if (!stored.ok()) return stored.error();
  if (!stored.value()) return get(request.model_id()).error();  // "has no score yet"
  const v1::ModelScore& score = *stored.value();

  v1::ValidateScoreResponse response;
  response.set_model_id(request.model_id());
  response.set_method(request.method().empty() ? "comprehensive_scoring" : request.method());
  const double shown = request.has_score() ? request.score() : score.overall_score();
  response.set_score(shown);
  const double low = request.expected_range().min();
  const double high = request.has_expected_range() ? request.expected_range().max() : 10.0;

  v1::ValidationResult& result = *response.mutable_validation_result();
  result.set_within_expected_range(shown >= low && shown <= high);
  if (!result.within_expected_range()) {
    response.add_problems("score " + format_one_decimal(shown) + " is outside the expected range " +
                          format_one_decimal(low) + "-" + format_one_decimal(high));
  }

  // Recompute from the stored inputs, weights and reference time.
  const ModelInputs inputs = inputs_of(score.inputs());
  const ScoreWeights weights = weights_of(score.weights());
  const auto reference = reference_of(score.inputs());
  const std::string hash = calculation_hash(inputs, weights, reference, score.algorithm_version());
  result.set_calculation_hash_verified(hash == score.calculation_hash() &&
                                       score.algorithm_version() == kAlgorithmVersion);
  if (score.algorithm_version() != kAlgorithmVersion) {
    response.add_problems("the score was computed by algorithm " + score.algorithm_version() + ", not " +
                          std::string(kAlgorithmVersion));
  } else if (hash != score.calculation_hash()) {
    response.add_problems("the calculation hash does not match the stored inputs and weights");
  }

  const ScoreResult recomputed =
      calculate_score(inputs, NormalizedWeights{weights, score.weights_normalized()}, reference);
  const ScoreComponents stored_components = components_of(score.components());
  const std::pair<const char*, std::pair<double, double>> components[] = {
      {"speed", {stored_components.speed, recomputed.rounded_components.speed}},
      {"efficiency", {stored_components.efficiency, recomputed.rounded_components.efficiency}},
      {"cost", {stored_components.cost, recomputed.rounded_components.cost}},
      {"capability", {stored_components.capability, recomputed.rounded_components.capability}},
      {"recency", {stored_components.recency, recomputed.rounded_components.recency}},
      {"overall", {score.overall_score(), recomputed.rounded_overall}},
  };
  bool components_valid = true;
  for (const auto& [name, values] : components) {
    if (!is_valid_score(values.first) || std::abs(values.first - values.second) > kScoreTolerance) {
      components_valid = false;
      response.add_problems(std::string(name) + " score " + format_one_decimal(values.first) +
                            " does not follow from the stored inputs (" + format_one_decimal(values.second) +
                            ")");
    }
  }
  if (request.has_score() && std::abs(request.score() - score.overall_score()) > kScoreTolerance) {
    components_valid = false;
    response.add_problems("score " + format_one_decimal(request.score()) + " is not the stored score " +
                          format_one_decimal(score.overall_score()));
  }
  result.set_component_scores_valid(components_valid);

  response.set_is_valid(result.within_expected_range() && result.component_scores_valid() &&
                        result.calculation_hash_verified());
  response.set_message(response.is_valid() ? "Score validation completed successfully"
                                           : "Score validation found problems");
  return response;
}

}  // namespace rally::scoring
