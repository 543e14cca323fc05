#include "gateway/routes/scoring_payloads.h"

#include <google/protobuf/util/time_util.h>

#include <boost/json.hpp>
#include <chrono>
#include <cmath>
#include <optional>
#include <set>
#include <utility>

#include "gateway/http/envelope.h"
#include "gateway/http/json_body.h"
#include "services/common/json_text.h"
#include "services/common/utf8.h"

namespace rally::gateway::routes {
namespace {

namespace json = boost::json;
using common::Error;
using common::ErrorCode;
using common::Result;

Error invalid(std::string_view field, std::string_view problem) {
  return Error(ErrorCode::kInvalidRequest,
               "Invalid request: " + std::string(field) + " " + std::string(problem),
               {{"field", std::string(field)}});
}

std::string child(std::string_view path, std::string_view key) {
  return path.empty() ? std::string(key) : std::string(path) + "." + std::string(key);
}

// The body as an object; an empty body is an empty object when `empty_ok`.
Result<json::object> body_object(std::string_view body, bool empty_ok) {
  if (body.empty() && empty_ok) return json::object();
  Result<json::value> parsed = http::parse_json_body(body);
  if (!parsed.ok()) return parsed.error();
  if (!parsed.value().is_object()) return invalid("body", "must be a JSON object");
  return std::move(parsed.value().as_object());
}

// Reads the members of one JSON object, naming each error by its path. A member that is absent or null
// reads as absent.
class Members {
 public:
  Members(const json::object& object, std::string path) : object_(object), path_(std::move(path)) {}

  std::string path_of(std::string_view key) const { return child(path_, key); }

  const json::value* find(std::string_view key) const {
    const json::value* value = object_.if_contains(key);
    return value == nullptr || value->is_null() ? nullptr : value;
  }

  Result<std::optional<double>> number(std::string_view key) const {
    const json::value* value = find(key);
    if (value == nullptr) return std::optional<double>();
    if (!value->is_number()) return invalid(path_of(key), "must be a number");
    return std::optional<double>(value->to_number<double>());
  }

  Result<std::optional<bool>> boolean(std::string_view key) const {
    const json::value* value = find(key);
    if (value == nullptr) return std::optional<bool>();
    if (!value->is_bool()) return invalid(path_of(key), "must be true or false");
    return std::optional<bool>(value->get_bool());
  }

  Result<std::optional<std::string>> string(std::string_view key, std::size_t max_bytes) const {
    const json::value* value = find(key);
    if (value == nullptr) return std::optional<std::string>();
    if (!value->is_string()) return invalid(path_of(key), "must be a string");
    if (value->get_string().size() > max_bytes) {
      return invalid(path_of(key), "is longer than " + std::to_string(max_bytes) + " bytes");
    }
    return std::optional<std::string>(std::string(value->get_string()));
  }

  Result<const json::object*> object(std::string_view key) const {
    const json::value* value = find(key);
    if (value == nullptr) return static_cast<const json::object*>(nullptr);
    if (!value->is_object()) return invalid(path_of(key), "must be an object");
    return &value->get_object();
  }

  // Refuses members other than `known`: a misspelt weight must not be silently ignored.
  std::optional<Error> only(std::initializer_list<std::string_view> known) const {
    for (const auto& member : object_) {
      bool listed = false;
      for (const std::string_view key : known) listed = listed || member.key() == key;
      if (!listed) {
        Error error = invalid(path_of(member.key()), "is not a known field");
        std::string allowed;
        for (const std::string_view key : known) allowed += (allowed.empty() ? "" : ", ") + std::string(key);
        error.details.emplace_back("allowed", allowed);
        return error;
      }
    }
    return std::nullopt;
  }

 private:
  const json::object& object_;
  std::string path_;
};

// The weights object at `path`; with `require_all` every key must be present.
Result<v1::ScoreWeights> parse_weights(const json::object& object, const std::string& path,
                                       bool require_all) {
  const Members members(object, path);
  if (auto unknown = members.only(
          {"response_speed", "model_efficiency", "cost_effectiveness", "capability", "recency"})) {
    return *unknown;
  }
  v1::ScoreWeights weights;
  const auto read = [&](std::string_view key, auto set) -> std::optional<Error> {
    Result<std::optional<double>> value = members.number(key);
    if (!value.ok()) return value.error();
    if (!value.value()) {
      if (require_all) return invalid(members.path_of(key), "is required");
      return std::nullopt;
    }
    if (*value.value() < 0) return invalid(members.path_of(key), "must not be negative");
    set(*value.value());
    return std::nullopt;
  };
  if (auto e = read("response_speed", [&](double v) { weights.set_response_speed(v); })) return *e;
  if (auto e = read("model_efficiency", [&](double v) { weights.set_model_efficiency(v); })) return *e;
  if (auto e = read("cost_effectiveness", [&](double v) { weights.set_cost_effectiveness(v); })) return *e;
  if (auto e = read("capability", [&](double v) { weights.set_capability(v); })) return *e;
  if (auto e = read("recency", [&](double v) { weights.set_recency(v); })) return *e;
  return weights;
}

// {config_name?, weights?} under "configuration".
Result<v1::ScoringOptions> parse_options(const Members& body) {
  v1::ScoringOptions options;
  Result<const json::object*> configuration = body.object("configuration");
  if (!configuration.ok()) return configuration.error();
  if (configuration.value() == nullptr) return options;
  const Members members(*configuration.value(), body.path_of("configuration"));
  if (auto unknown = members.only({"config_name", "weights"})) return *unknown;
  Result<std::optional<std::string>> name = members.string("config_name", 64);
  if (!name.ok()) return name.error();
  if (name.value()) options.set_config_name(*name.value());
  Result<const json::object*> weights = members.object("weights");
  if (!weights.ok()) return weights.error();
  if (weights.value() != nullptr) {
    Result<v1::ScoreWeights> parsed = parse_weights(*weights.value(), members.path_of("weights"), false);
    if (!parsed.ok()) return parsed.error();
    *options.mutable_weights() = std::move(parsed.value());
  }
  return options;
}

// A score sent by a client: a number in [0, 10].
Result<double> parse_score(const Members& members, std::string_view key) {
  Result<std::optional<double>> score = members.number(key);
  if (!score.ok()) return score.error();
  if (!score.value()) return invalid(members.path_of(key), "is required");
  if (*score.value() < 0 || *score.value() > 10)
    return invalid(members.path_of(key), "must be between 0 and 10");
  return *score.value();
}

Result<std::string> required_string(const Members& members, std::string_view key, std::size_t max_bytes) {
  Result<std::optional<std::string>> value = members.string(key, max_bytes);
  if (!value.ok()) return value.error();
  if (!value.value() || value.value()->empty()) return invalid(members.path_of(key), "is required");
  return std::move(*value.value());
}

std::optional<double> query_number(const http::Request& request, std::string_view name, Error& error) {
  const std::optional<std::string> text = request.query_param(name);
  if (!text) return std::nullopt;
  std::size_t used = 0;
  double value = 0;
  try {
    value = std::stod(*text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used == 0 || used != text->size() || !std::isfinite(value)) {
    error = invalid(name, "must be a number");
    return std::nullopt;
  }
  return value;
}

json::value timestamp_json(const google::protobuf::Timestamp& timestamp, bool present) {
  if (!present) return nullptr;
  const auto micros = google::protobuf::util::TimeUtil::TimestampToMicroseconds(timestamp);
  return json::value(http::format_timestamp(std::chrono::system_clock::time_point(
      std::chrono::duration_cast<std::chrono::system_clock::duration>(std::chrono::microseconds(micros)))));
}

json::object components_json(const v1::ScoreComponents& components) {
  return json::object{{"speed_score", components.speed_score()},
                      {"efficiency_score", components.efficiency_score()},
                      {"cost_score", components.cost_score()},
                      {"capability_score", components.capability_score()},
                      {"recency_score", components.recency_score()}};
}

json::object weights_json(const v1::ScoreWeights& weights) {
  return json::object{{"response_speed", weights.response_speed()},
                      {"model_efficiency", weights.model_efficiency()},
                      {"cost_effectiveness", weights.cost_effectiveness()},
                      {"capability", weights.capability()},
                      {"recency", weights.recency()}};
}

json::object score_object(const v1::ModelScore& score) {
  return json::object{
      {"model_id", score.model_id()},
      {"model_name", score.model_name()},
      {"overall_score", score.overall_score()},
      {"score_suffix", score.score_suffix()},
      {"components", components_json(score.components())},
      {"last_calculated", timestamp_json(score.last_calculated(), score.has_last_calculated())},
      {"data_source", score.data_source()},
      {"calculation_hash", score.calculation_hash()},
      {"valid_until", timestamp_json(score.valid_until(), score.has_valid_until())},
      {"weights", weights_json(score.weights())},
      {"weights_normalized", score.weights_normalized()},
      {"from_cache", score.from_cache()},
      {"algorithm_version", score.algorithm_version()},
      {"performance_source", score.inputs().performance_source()},
  };
}

std::string_view batch_status_name(v1::BatchStatus status) {
  switch (status) {
    case v1::BATCH_STATUS_PROCESSING:
      return "processing";
    case v1::BATCH_STATUS_COMPLETED:
      return "completed";
    case v1::BATCH_STATUS_FAILED:
      return "failed";
    default:
      return "unknown";
  }
}

constexpr std::pair<std::string_view, v1::ScoreCategory> kCategories[] = {
    {"overall", v1::SCORE_CATEGORY_OVERALL},       {"speed", v1::SCORE_CATEGORY_SPEED},
    {"efficiency", v1::SCORE_CATEGORY_EFFICIENCY}, {"cost", v1::SCORE_CATEGORY_COST},
    {"capability", v1::SCORE_CATEGORY_CAPABILITY}, {"recency", v1::SCORE_CATEGORY_RECENCY},
};

}  // namespace

std::string_view category_name(v1::ScoreCategory category) {
  for (const auto& [name, value] : kCategories) {
    if (value == category) return name;
  }
  return "overall";
}

Result<v1::CalculateScoreRequest> parse_calculate_body(std::string_view model_id, std::string_view body) {
  Result<json::object> object = body_object(body, true);
  if (!object.ok()) return object.error();
  const Members members(object.value(), "");
  if (auto unknown = members.only({"configuration", "force_recalculation"})) return *unknown;
  v1::CalculateScoreRequest request;
  request.set_model_id(std::string(model_id));
  Result<v1::ScoringOptions> options = parse_options(members);
  if (!options.ok()) return options.error();
  *request.mutable_configuration() = std::move(options.value());
  Result<std::optional<bool>> force = members.boolean("force_recalculation");
  if (!force.ok()) return force.error();
  request.set_force_recalculation(force.value().value_or(false));
  return request;
}

Result<v1::RecalculateScoreRequest> parse_recalculate_body(std::string_view model_id, std::string_view body) {
  Result<json::object> object = body_object(body, true);
  if (!object.ok()) return object.error();
  const Members members(object.value(), "");
  if (auto unknown = members.only({"reason", "configuration"})) return *unknown;
  v1::RecalculateScoreRequest request;
  request.set_model_id(std::string(model_id));
  Result<std::optional<std::string>> reason = members.string("reason", kMaxReasonBytes);
  if (!reason.ok()) return reason.error();
  request.set_reason(reason.value().value_or(""));
  Result<v1::ScoringOptions> options = parse_options(members);
  if (!options.ok()) return options.error();
  *request.mutable_configuration() = std::move(options.value());
  return request;
}

Result<v1::BatchCalculateRequest> parse_batch_body(std::string_view body) {
  Result<json::object> object = body_object(body, false);
  if (!object.ok()) return object.error();
  const Members members(object.value(), "");
  if (auto unknown = members.only({"model_ids", "configuration", "async", "force_recalculation"}))
    return *unknown;
  v1::BatchCalculateRequest request;
  const json::value* ids = members.find("model_ids");
  if (ids == nullptr) return invalid("model_ids", "is required");
  if (!ids->is_array() || ids->get_array().empty()) return invalid("model_ids", "must be a non-empty array");
  if (ids->get_array().size() > static_cast<std::size_t>(kMaxBatchModels)) {
    return invalid("model_ids", "holds more than " + std::to_string(kMaxBatchModels) + " models");
  }
  std::size_t index = 0;
  for (const json::value& id : ids->get_array()) {
    const std::string path = "model_ids[" + std::to_string(index++) + "]";
    if (!id.is_string() || id.get_string().empty()) return invalid(path, "must be a non-empty string");
    if (id.get_string().size() > kMaxModelNameBytes) return invalid(path, "is too long");
    request.add_model_ids(std::string(id.get_string()));
  }
  Result<v1::ScoringOptions> options = parse_options(members);
  if (!options.ok()) return options.error();
  *request.mutable_configuration() = std::move(options.value());
  Result<std::optional<bool>> async = members.boolean("async");
  if (!async.ok()) return async.error();
  request.set_async(async.value().value_or(false));
  Result<std::optional<bool>> force = members.boolean("force_recalculation");
  if (!force.ok()) return force.error();
  request.set_force_recalculation(force.value().value_or(false));
  return request;
}

Result<v1::AddSuffixRequest> parse_add_suffix_body(std::string_view body) {
  Result<json::object> object = body_object(body, false);
  if (!object.ok()) return object.error();
  const Members members(object.value(), "");
  if (auto unknown = members.only({"model_name", "score"})) return *unknown;
  v1::AddSuffixRequest request;
  Result<std::string> name = required_string(members, "model_name", kMaxModelNameBytes);
  if (!name.ok()) return name.error();
  request.set_model_name(std::move(name.value()));
  Result<double> score = parse_score(members, "score");
  if (!score.ok()) return score.error();
  request.set_score(score.value());
  return request;
}

Result<v1::BatchUpdateNamesRequest> parse_batch_names_body(std::string_view body) {
  Result<json::object> object = body_object(body, false);
  if (!object.ok()) return object.error();
  const Members members(object.value(), "");
  if (auto unknown = members.only({"model_scores"})) return *unknown;
  Result<const json::object*> scores = members.object("model_scores");
  if (!scores.ok()) return scores.error();
  if (scores.value() == nullptr || scores.value()->empty())
    return invalid("model_scores", "must be a non-empty object");
  if (scores.value()->size() > static_cast<std::size_t>(kMaxNamesPerUpdate)) {
    return invalid("model_scores", "holds more than " + std::to_string(kMaxNamesPerUpdate) + " names");
  }
  v1::BatchUpdateNamesRequest request;
  const Members names(*scores.value(), "model_scores");
  for (const auto& member : *scores.value()) {
    if (member.key().empty() || member.key().size() > kMaxModelNameBytes) {
      return invalid(names.path_of(member.key()), "is not a usable model name");
    }
    Result<double> score = parse_score(names, member.key());
    if (!score.ok()) return score.error();
    (*request.mutable_model_scores())[std::string(member.key())] = score.value();
  }
  return request;
}

Result<v1::CompareScoresRequest> parse_compare_query(const http::Request& request) {
  const std::optional<std::string> models = request.query_param("models");
  if (!models || models->empty()) return invalid("models", "is required: ?models=a,b");
  v1::CompareScoresRequest compare;
  std::set<std::string> seen;
  std::string_view rest = *models;
  while (true) {
    const std::size_t comma = rest.find(',');
    const std::string_view id = rest.substr(0, comma);
    if (id.empty()) return invalid("models", "holds an empty model id");
    if (id.size() > kMaxModelNameBytes) return invalid("models", "holds a model id that is too long");
    // Decoded from %XX, an id may be any bytes; model ids travel upstream as proto3 strings (UTF-8).
    if (!common::is_valid_utf8(id)) return invalid("models", "holds a model id that is not valid UTF-8");
    if (seen.emplace(id).second) compare.add_model_ids(std::string(id));
    if (comma == std::string_view::npos) break;
    rest.remove_prefix(comma + 1);
  }
  if (compare.model_ids_size() < 2) return invalid("models", "must name at least two different models");
  if (compare.model_ids_size() > kMaxCompareModels) {
    return invalid("models", "names more than " + std::to_string(kMaxCompareModels) + " models");
  }
  return compare;
}

Result<v1::GetRankingRequest> parse_ranking_query(const http::Request& request) {
  v1::GetRankingRequest ranking;
  ranking.set_category(v1::SCORE_CATEGORY_OVERALL);
  if (const std::optional<std::string> category = request.query_param("category")) {
    bool known = false;
    for (const auto& [name, value] : kCategories) {
      if (*category == name) {
        ranking.set_category(value);
        known = true;
      }
    }
    if (!known) {
      Error error = invalid("category", "is not a known category");
      error.details.emplace_back("allowed", "overall, speed, efficiency, cost, capability, recency");
      return error;
    }
  }
  if (const std::optional<std::string> limit = request.query_param("limit")) {
    const bool digits =
        !limit->empty() && limit->size() <= 4 && limit->find_first_not_of("0123456789") == std::string::npos;
    const unsigned value = digits ? static_cast<unsigned>(std::stoul(*limit)) : 0;
    if (value < 1 || value > kMaxRankingLimit) {
      return invalid("limit", "must be a whole number from 1 to " + std::to_string(kMaxRankingLimit));
    }
    ranking.set_limit(value);
  }
  Error error;
  const std::optional<double> min_score = query_number(request, "min_score", error);
  if (!error.message.empty()) return error;
  const std::optional<double> max_score = query_number(request, "max_score", error);
  if (!error.message.empty()) return error;
  if (min_score && (*min_score < 0 || *min_score > 10))
    return invalid("min_score", "must be between 0 and 10");
  if (max_score && (*max_score < 0 || *max_score > 10))
    return invalid("max_score", "must be between 0 and 10");
  if (min_score && max_score && *min_score > *max_score)
    return invalid("min_score", "must not exceed max_score");
  if (min_score) ranking.set_min_score(*min_score);
  if (max_score) ranking.set_max_score(*max_score);
  return ranking;
}

Result<v1::PutConfigurationRequest> parse_configuration_body(std::string_view name, std::string_view body) {
  Result<json::object> object = body_object(body, false);
  if (!object.ok()) return object.error();
  const Members members(object.value(), "");
  if (auto unknown = members.only({"weights", "thresholds", "enabled"})) return *unknown;
  v1::PutConfigurationRequest request;
  v1::ScoringConfiguration& configuration = *request.mutable_configuration();
  configuration.set_config_name(std::string(name));
  Result<const json::object*> weights = members.object("weights");
  if (!weights.ok()) return weights.error();
  if (weights.value() == nullptr) return invalid("weights", "is required");
  Result<v1::ScoreWeights> parsed = parse_weights(*weights.value(), "weights", true);
  if (!parsed.ok()) return parsed.error();
  *configuration.mutable_weights() = std::move(parsed.value());
  configuration.mutable_thresholds()->set_min_score(0);
  configuration.mutable_thresholds()->set_max_score(10);
  Result<const json::object*> thresholds = members.object("thresholds");
  if (!thresholds.ok()) return thresholds.error();
  if (thresholds.value() != nullptr) {
    const Members bounds(*thresholds.value(), "thresholds");
    if (auto unknown = bounds.only({"min_score", "max_score"})) return *unknown;
    for (const std::string_view key : {"min_score", "max_score"}) {
      if (bounds.find(key) == nullptr) continue;
      Result<double> bound = parse_score(bounds, key);
      if (!bound.ok()) return bound.error();
      if (key == "min_score") {
        configuration.mutable_thresholds()->set_min_score(bound.value());
      } else {
        configuration.mutable_thresholds()->set_max_score(bound.value());
      }
    }
    if (configuration.thresholds().min_score() > configuration.thresholds().max_score()) {
      return invalid("thresholds.min_score", "must not exceed thresholds.max_score");
    }
  }
  Result<std::optional<bool>> enabled = members.boolean("enabled");
  if (!enabled.ok()) return enabled.error();
  configuration.set_enabled(enabled.value().value_or(true));
  return request;
}

Result<v1::ValidateScoreRequest> parse_validate_body(std::string_view body) {
  Result<json::object> object = body_object(body, false);
  if (!object.ok()) return object.error();
  const Members members(object.value(), "");
  if (auto unknown = members.only({"model_id", "score", "method", "expected_range"})) return *unknown;
  v1::ValidateScoreRequest request;
  Result<std::string> model_id = required_string(members, "model_id", kMaxModelNameBytes);
  if (!model_id.ok()) return model_id.error();
  request.set_model_id(std::move(model_id.value()));
  if (members.find("score") != nullptr) {
    Result<double> score = parse_score(members, "score");
    if (!score.ok()) return score.error();
    request.set_score(score.value());
  }
  Result<std::optional<std::string>> method = members.string("method", 64);
  if (!method.ok()) return method.error();
  request.set_method(method.value().value_or("comprehensive_scoring"));
  request.mutable_expected_range()->set_min(0);
  request.mutable_expected_range()->set_max(10);
  Result<const json::object*> range = members.object("expected_range");
  if (!range.ok()) return range.error();
  if (range.value() != nullptr) {
    const Members bounds(*range.value(), "expected_range");
    if (auto unknown = bounds.only({"min", "max"})) return *unknown;
    if (bounds.find("min") != nullptr) {
      Result<double> min = parse_score(bounds, "min");
      if (!min.ok()) return min.error();
      request.mutable_expected_range()->set_min(min.value());
    }
    if (bounds.find("max") != nullptr) {
      Result<double> max = parse_score(bounds, "max");
      if (!max.ok()) return max.error();
      request.mutable_expected_range()->set_max(max.value());
    }
    if (request.expected_range().min() > request.expected_range().max()) {
      return invalid("expected_range.min", "must not exceed expected_range.max");
    }
  }
  return request;
}

std::string score_data(const v1::ModelScore& score) {
  return common::json_text(score_object(score));
}

std::string recalculated_data(const v1::ModelScore& score) {
  json::object data{{"message", "Score recalculated successfully"}};
  for (auto& member : score_object(score)) data.insert(std::move(member));
  data["recalc_reason"] = score.recalc_reason();
  return common::json_text(data);
}

std::string batch_data(const v1::Batch& batch) {
  const bool processing = batch.status() == v1::BATCH_STATUS_PROCESSING;
  json::object data{
      {"message", processing ? "Batch score calculation started" : "Batch score calculation completed"},
      {"batch_id", batch.batch_id()},
      {"status", batch_status_name(batch.status())},
      {"model_count", batch.model_count()},
  };
  json::array results;
  for (const v1::BatchItemResult& item : batch.results()) {
    json::object result;
    if (item.success()) {
      result = score_object(item.score());
      result["model_id"] = item.model_id();
    } else {
      result["model_id"] = item.model_id();
      result["error"] = json::object{{"code", item.error().code()}, {"message", item.error().message()}};
    }
    result["success"] = item.success();
    results.push_back(std::move(result));
  }
  data["results"] = std::move(results);
  data["success_count"] = batch.success_count();
  data["failure_count"] = batch.failure_count();
  data["created_at"] = timestamp_json(batch.created_at(), batch.has_created_at());
  data["completed_at"] = timestamp_json(batch.completed_at(), batch.has_completed_at());
  return common::json_text(data);
}

std::string add_suffix_data(const v1::AddSuffixResponse& response) {
  return common::json_text(json::object{{"original_name", response.original_name()},
                                        {"updated_name", response.updated_name()},
                                        {"score", response.score()},
                                        {"score_suffix", response.score_suffix()}});
}

std::string batch_names_data(const v1::BatchUpdateNamesResponse& response) {
  json::object results;
  for (const auto& [name, updated] : response.results()) results[name] = updated;
  return common::json_text(json::object{{"message", "Model names updated successfully"},
                                        {"results", std::move(results)},
                                        {"count", response.count()}});
}

std::string compare_data(const v1::CompareScoresResponse& response) {
  json::array models;
  for (const std::string& model : response.models()) models.push_back(json::value(model));
  json::array results;
  for (const v1::ComparedModel& model : response.results()) {
    results.push_back(json::object{{"model_id", model.model_id()},
                                   {"model_name", model.model_name()},
                                   {"overall_score", model.overall_score()},
                                   {"rank", model.rank()},
                                   {"components", components_json(model.components())}});
  }
  return common::json_text(json::object{{"comparison", json::object{{"models", std::move(models)},
                                                                    {"results", std::move(results)},
                                                                    {"best_model", response.best_model()},
                                                                    {"analysis", response.analysis()}}}});
}

std::string ranking_data(const v1::GetRankingResponse& response) {
  json::array rankings;
  for (const v1::RankedModel& model : response.rankings()) {
    rankings.push_back(
        json::object{{"rank", model.rank()},
                     {"model_id", model.model_id()},
                     {"model_name", model.model_name()},
                     {"overall_score", model.overall_score()},
                     {"score_suffix", model.score_suffix()},
                     {"category_score", model.category_score()},
                     {"last_updated", timestamp_json(model.last_updated(), model.has_last_updated())}});
  }
  return common::json_text(
      json::object{{"category", category_name(response.category())}, {"rankings", std::move(rankings)}});
}

std::string ranking_metadata(const v1::GetRankingResponse& response) {
  return R"("total_models":)" + std::to_string(response.total_models()) + R"(,"filtered_models":)" +
         std::to_string(response.filtered_models());
}

std::string configuration_data(const v1::ScoringConfiguration& configuration) {
  return common::json_text(json::object{
      {"config_name", configuration.config_name()},
      {"weights", weights_json(configuration.weights())},
      {"thresholds", json::object{{"min_score", configuration.thresholds().min_score()},
                                  {"max_score", configuration.thresholds().max_score()}}},
      {"enabled", configuration.enabled()},
      {"last_updated", timestamp_json(configuration.last_updated(), configuration.has_last_updated())}});
}

std::string validate_data(const v1::ValidateScoreResponse& response) {
  json::array problems;
  for (const std::string& problem : response.problems()) problems.push_back(json::value(problem));
  const v1::ValidationResult& result = response.validation_result();
  return common::json_text(json::object{
      {"model_id", response.model_id()},
      {"score", response.score()},
      {"method", response.method()},
      {"is_valid", response.is_valid()},
      {"validation_result", json::object{{"within_expected_range", result.within_expected_range()},
                                         {"component_scores_valid", result.component_scores_valid()},
                                         {"calculation_hash_verified", result.calculation_hash_verified()}}},
      {"problems", std::move(problems)},
      {"message", response.message()}});
}

std::string score_update_message(const v1::ScoreUpdate& update) {
  const v1::ModelScore& score = update.score();
  json::object data{
      {"model_id", score.model_id()},
      {"model_name", score.model_name()},
      {"overall_score", score.overall_score()},
      {"score_suffix", score.score_suffix()},
      {"components", components_json(score.components())},
      {"last_calculated", timestamp_json(score.last_calculated(), score.has_last_calculated())}};
  if (update.has_previous_overall_score()) data["previous_overall_score"] = update.previous_overall_score();
  return common::json_text(
      json::object{{"type", "score_update"},
                   {"data", std::move(data)},
                   {"timestamp", timestamp_json(update.timestamp(), update.has_timestamp())}});
}

}  // namespace rally::gateway::routes
