// The scoring API's JSON (shared/seeds/scoring-api-reference.md) to and from rally.v1 messages: request
// bodies and queries parsed into the Scoring service's requests, its answers rendered as the seed's `data`
// objects. Pure code; errors are INVALID_REQUEST naming the field ("configuration.weights.capability").
#pragma once

#include <string>
#include <string_view>

#include "gateway/http/request.h"
#include "rally/v1/scoring.pb.h"
#include "services/common/errors.h"

namespace rally::gateway::routes {

// Limits of one request (docs/scoring.md, "Limits").
inline constexpr int kMaxBatchModels = 5000;
inline constexpr int kMaxCompareModels = 50;
inline constexpr int kMaxNamesPerUpdate = 1000;
inline constexpr unsigned kMaxRankingLimit = 500;  // the scoring service's (score_ranking.h)
inline constexpr std::size_t kMaxReasonBytes = 1000;
inline constexpr std::size_t kMaxModelNameBytes = 512;

// POST /models/{model_id}/score/calculate: {configuration?: {config_name?, weights?}, force_recalculation?};
// an empty body means defaults.
common::Result<v1::CalculateScoreRequest> parse_calculate_body(std::string_view model_id,
                                                               std::string_view body);
// PUT /models/{model_id}/score/recalculate: {reason?, configuration?}.
common::Result<v1::RecalculateScoreRequest> parse_recalculate_body(std::string_view model_id,
                                                                   std::string_view body);
// POST /models/scores/batch: {model_ids: [1..kMaxBatchModels], configuration?, async?, force_recalculation?}.
common::Result<v1::BatchCalculateRequest> parse_batch_body(std::string_view body);
// POST /models/naming/add-suffix: {model_name, score in [0, 10]}.
common::Result<v1::AddSuffixRequest> parse_add_suffix_body(std::string_view body);
// POST /models/naming/batch-update: {model_scores: {name: score in [0, 10], ...}}.
common::Result<v1::BatchUpdateNamesRequest> parse_batch_names_body(std::string_view body);
// GET /models/scores/compare?models=a,b: 2..kMaxCompareModels distinct ids.
common::Result<v1::CompareScoresRequest> parse_compare_query(const http::Request& request);
// GET /models/scores/ranking?category=&limit=&min_score=&max_score=.
common::Result<v1::GetRankingRequest> parse_ranking_query(const http::Request& request);
// PUT /scoring/configuration/{name}: {weights: all five keys, thresholds?: {min_score, max_score}, enabled?}.
common::Result<v1::PutConfigurationRequest> parse_configuration_body(std::string_view name,
                                                                     std::string_view body);
// POST /scoring/validate: {model_id, score?, method?, expected_range?: {min, max}}.
common::Result<v1::ValidateScoreRequest> parse_validate_body(std::string_view body);

// The `data` of a score answer: the seed's fields (model_id, model_name, overall_score, score_suffix,
// components, last_calculated, data_source, calculation_hash, valid_until) and ours (weights,
// weights_normalized, from_cache, algorithm_version, performance_source).
std::string score_data(const v1::ModelScore& score);
// PUT .../recalculate: {"message":"Score recalculated successfully", ...score_data, recalc_reason}.
std::string recalculated_data(const v1::ModelScore& score);
// A batch: synchronous (completed, with results) or just accepted (processing, no results yet).
std::string batch_data(const v1::Batch& batch);
std::string add_suffix_data(const v1::AddSuffixResponse& response);
std::string batch_names_data(const v1::BatchUpdateNamesResponse& response);
// {"comparison":{models, results, best_model, analysis}}.
std::string compare_data(const v1::CompareScoresResponse& response);
// {category, rankings}; total_models and filtered_models go in the metadata (ranking_metadata).
std::string ranking_data(const v1::GetRankingResponse& response);
std::string ranking_metadata(const v1::GetRankingResponse& response);
std::string configuration_data(const v1::ScoringConfiguration& configuration);
std::string validate_data(const v1::ValidateScoreResponse& response);
// A WebSocket frame for one stored change: {"type":"score_update","data":{...},"timestamp":"..."}.
std::string score_update_message(const v1::ScoreUpdate& update);

// "overall", "speed", ...; the category of a ranking query.
std::string_view category_name(v1::ScoreCategory category);

}  // namespace rally::gateway::routes
