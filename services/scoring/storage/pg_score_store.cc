#include "services/scoring/storage/pg_score_store.h"

#include <google/protobuf/util/json_util.h>
#include <google/protobuf/util/time_util.h>

#include <boost/json.hpp>
#include <cstdint>
#include <map>
#include <optional>
#include <pqxx/except>
#include <pqxx/result>
#include <pqxx/row>
#include <pqxx/transaction>
#include <stdexcept>
#include <string>
#include <utility>

#include "services/common/pg_pool.h"
#include "services/common/pg_store.h"

namespace rally::scoring {
namespace {

using common::Error;
using common::ErrorCode;
using common::Result;
using common::pg::microseconds_of;
using common::pg::number;
using common::pg::timestamp;
using google::protobuf::util::TimeUtil;
namespace json = boost::json;

constexpr std::string_view kScores = "scoring score store";
constexpr std::string_view kConfigurations = "scoring configuration store";
constexpr std::string_view kBatches = "scoring batch store";

// Protobuf's JSON form, field names as in the .proto, every field printed: readable in psql and stable.
std::string to_json(const google::protobuf::Message& message) {
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  options.always_print_primitive_fields = true;
  std::string json;
  if (const auto status = google::protobuf::util::MessageToJsonString(message, &json, options);
      !status.ok()) {
    throw std::logic_error("cannot write " + message.GetTypeName() + " as JSON: " + status.ToString());
  }
  return json;
}

template <typename Message>
Message from_json(const pqxx::field& field) {
  Message message;
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = true;  // written by a newer version of the service
  if (const auto status =
          google::protobuf::util::JsonStringToMessage(field.as<std::string>(), &message, options);
      !status.ok()) {
    throw std::runtime_error("stored " + message.GetTypeName() + " is not valid JSON: " + status.ToString());
  }
  return message;
}

google::protobuf::Timestamp timestamp_of(const pqxx::field& microseconds) {
  return TimeUtil::MicrosecondsToTimestamp(microseconds.as<std::int64_t>());
}

std::int64_t microseconds(const google::protobuf::Timestamp& time) {
  return TimeUtil::TimestampToMicroseconds(time);
}

// What model_score() reads, from scoring.scores.
const std::string kScoreColumns =
    "model_id, model_name, overall_score, speed_score, efficiency_score, cost_score, capability_score, "
    "recency_score, calculation_hash, algorithm_version, score_suffix, data_source, weights::text, "
    "weights_normalized, inputs::text, recalc_reason, " +
    microseconds_of("calculated_at") + ", " + microseconds_of("valid_until");

v1::ModelScore model_score(const pqxx::row& row) {
  v1::ModelScore score;
  score.set_model_id(row[0].as<std::string>());
  score.set_model_name(row[1].as<std::string>());
  score.set_overall_score(row[2].as<double>());
  v1::ScoreComponents& components = *score.mutable_components();
  components.set_speed_score(row[3].as<double>());
  components.set_efficiency_score(row[4].as<double>());
  components.set_cost_score(row[5].as<double>());
  components.set_capability_score(row[6].as<double>());
  components.set_recency_score(row[7].as<double>());
  score.set_calculation_hash(row[8].as<std::string>());
  score.set_algorithm_version(row[9].as<std::string>());
  score.set_score_suffix(row[10].as<std::string>());
  score.set_data_source(row[11].as<std::string>());
  *score.mutable_weights() = from_json<v1::ScoreWeights>(row[12]);
  score.set_weights_normalized(row[13].as<bool>());
  *score.mutable_inputs() = from_json<v1::ScoreInputs>(row[14]);
  score.set_recalc_reason(row[15].as<std::string>());
  *score.mutable_last_calculated() = timestamp_of(row[16]);
  *score.mutable_valid_until() = timestamp_of(row[17]);
  return score;
}

std::vector<v1::ModelScore> model_scores(const pqxx::result& rows) {
  std::vector<v1::ModelScore> scores;
  scores.reserve(rows.size());
  for (const pqxx::row& row : rows) scores.push_back(model_score(row));
  return scores;
}

// What configuration() reads, from scoring.configurations.
const std::string kConfigurationColumns =
    "name, response_speed, model_efficiency, cost_effectiveness, capability, recency, min_score, max_score, "
    "enabled, " +
    microseconds_of("updated_at");

v1::ScoringConfiguration configuration(const pqxx::row& row) {
  v1::ScoringConfiguration config;
  config.set_config_name(row[0].as<std::string>());
  v1::ScoreWeights& weights = *config.mutable_weights();
  weights.set_response_speed(row[1].as<double>());
  weights.set_model_efficiency(row[2].as<double>());
  weights.set_cost_effectiveness(row[3].as<double>());
  weights.set_capability(row[4].as<double>());
  weights.set_recency(row[5].as<double>());
  config.mutable_thresholds()->set_min_score(row[6].as<double>());
  config.mutable_thresholds()->set_max_score(row[7].as<double>());
  config.set_enabled(row[8].as<bool>());
  *config.mutable_last_updated() = timestamp_of(row[9]);
  return config;
}

// The statement parts both ways of saving scores share.
constexpr std::string_view kInsertScore =
    "INSERT INTO scoring.scores (model_id, model_name, overall_score, speed_score, efficiency_score, "
    "cost_score, capability_score, recency_score, calculation_hash, algorithm_version, score_suffix, "
    "data_source, weights, weights_normalized, inputs, recalc_reason, calculated_at, valid_until) ";
constexpr std::string_view kReplaceScore =
    " ON CONFLICT (model_id) DO UPDATE SET model_name = EXCLUDED.model_name, "
    "overall_score = EXCLUDED.overall_score, speed_score = EXCLUDED.speed_score, "
    "efficiency_score = EXCLUDED.efficiency_score, cost_score = EXCLUDED.cost_score, "
    "capability_score = EXCLUDED.capability_score, recency_score = EXCLUDED.recency_score, "
    "calculation_hash = EXCLUDED.calculation_hash, algorithm_version = EXCLUDED.algorithm_version, "
    "score_suffix = EXCLUDED.score_suffix, data_source = EXCLUDED.data_source, "
    "weights = EXCLUDED.weights, weights_normalized = EXCLUDED.weights_normalized, "
    "inputs = EXCLUDED.inputs, recalc_reason = EXCLUDED.recalc_reason, "
    "calculated_at = EXCLUDED.calculated_at, valid_until = EXCLUDED.valid_until";
constexpr std::string_view kInsertHistory =
    "INSERT INTO scoring.score_history (model_id, overall_score, previous_overall_score, calculation_hash, "
    "reason, calculated_at) ";

// Makes `score` the model's current one and appends its history row; returns the overall score it replaced.
// Statements with one row of parameters: for a single score, PostgreSQL spends less than half the CPU it
// spends on save_scores' JSON (measured by the scoring bench's forced calculations).
std::optional<double> save_score(pqxx::work& transaction, const v1::ModelScore& score) {
  const pqxx::result previous = transaction.exec_params(
      "SELECT overall_score FROM scoring.scores WHERE model_id = $1 FOR UPDATE", score.model_id());
  std::optional<double> replaced;
  if (!previous.empty()) replaced = previous[0][0].as<double>();
  const v1::ScoreComponents& components = score.components();
  transaction.exec_params0(
      std::string(kInsertScore) +
          "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13::jsonb, $14, $15::jsonb, $16, " +
          timestamp("$17") + ", " + timestamp("$18") + ")" + std::string(kReplaceScore),
      score.model_id(), score.model_name(), number(score.overall_score()), number(components.speed_score()),
      number(components.efficiency_score()), number(components.cost_score()),
      number(components.capability_score()), number(components.recency_score()), score.calculation_hash(),
      score.algorithm_version(), score.score_suffix(), score.data_source(), to_json(score.weights()),
      score.weights_normalized(), to_json(score.inputs()), score.recalc_reason(),
      microseconds(score.last_calculated()), microseconds(score.valid_until()));
  transaction.exec_params0(
      std::string(kInsertHistory) + "VALUES ($1, $2, $3, $4, $5, " + timestamp("$6") + ")", score.model_id(),
      number(score.overall_score()), replaced ? std::optional<std::string>(number(*replaced)) : std::nullopt,
      score.calculation_hash(), score.recalc_reason(), microseconds(score.last_calculated()));
  return replaced;
}

// save_score for many scores (of distinct models) in three statements whatever their number, the rows
// as one JSON document. Rows are locked first, in key order, so writers of several scores cannot
// deadlock. Returns, per score, the overall score it replaced. Numbers travel as %.17g text, exact.
std::vector<std::optional<double>> save_scores(pqxx::work& transaction,
                                               const std::vector<v1::ModelScore>& scores) {
  std::vector<std::optional<double>> replaced(scores.size());
  if (scores.empty()) return replaced;
  json::array ids;
  for (const v1::ModelScore& score : scores) ids.emplace_back(score.model_id());
  const pqxx::result previous = transaction.exec_params(
      "SELECT model_id, overall_score FROM scoring.scores "
      "WHERE model_id = ANY (ARRAY(SELECT jsonb_array_elements_text($1::jsonb))) ORDER BY model_id "
      "FOR UPDATE",
      json::serialize(ids));
  std::map<std::string, double, std::less<>> previous_overall;
  for (const pqxx::row& row : previous)
    previous_overall.emplace(row[0].as<std::string>(), row[1].as<double>());

  json::array rows;
  for (std::size_t i = 0; i < scores.size(); ++i) {
    const v1::ModelScore& score = scores[i];
    const v1::ScoreComponents& components = score.components();
    json::object row{{"model_id", score.model_id()},
                     {"model_name", score.model_name()},
                     {"overall_score", number(score.overall_score())},
                     {"speed_score", number(components.speed_score())},
                     {"efficiency_score", number(components.efficiency_score())},
                     {"cost_score", number(components.cost_score())},
                     {"capability_score", number(components.capability_score())},
                     {"recency_score", number(components.recency_score())},
                     {"calculation_hash", score.calculation_hash()},
                     {"algorithm_version", score.algorithm_version()},
                     {"score_suffix", score.score_suffix()},
                     {"data_source", score.data_source()},
                     {"weights", json::parse(to_json(score.weights()))},
                     {"weights_normalized", score.weights_normalized()},
                     {"inputs", json::parse(to_json(score.inputs()))},
                     {"recalc_reason", score.recalc_reason()},
                     {"calculated_at_us", microseconds(score.last_calculated())},
                     {"valid_until_us", microseconds(score.valid_until())},
                     {"previous_overall_score", nullptr}};
    if (const auto before = previous_overall.find(score.model_id()); before != previous_overall.end()) {
      replaced[i] = before->second;
      row["previous_overall_score"] = number(before->second);
    }
    rows.emplace_back(std::move(row));
  }
  const std::string document = json::serialize(rows);
  transaction.exec_params0(
      std::string(kInsertScore) +
          "SELECT model_id, model_name, overall_score, speed_score, efficiency_score, cost_score, "
          "capability_score, recency_score, calculation_hash, algorithm_version, score_suffix, data_source, "
          "weights, weights_normalized, inputs, recalc_reason, " +
          timestamp("calculated_at_us") + ", " + timestamp("valid_until_us") +
          " FROM jsonb_to_recordset($1::jsonb) AS r(model_id text, model_name text, overall_score float8, "
          "speed_score float8, efficiency_score float8, cost_score float8, capability_score float8, "
          "recency_score float8, calculation_hash text, algorithm_version text, score_suffix text, "
          "data_source text, weights jsonb, weights_normalized boolean, inputs jsonb, recalc_reason text, "
          "calculated_at_us bigint, valid_until_us bigint)" +
          std::string(kReplaceScore),
      document);
  transaction.exec_params0(
      std::string(kInsertHistory) +
          "SELECT model_id, overall_score, previous_overall_score, calculation_hash, recalc_reason, " +
          timestamp("calculated_at_us") +
          " FROM jsonb_to_recordset($1::jsonb) AS r(model_id text, overall_score float8, "
          "previous_overall_score float8, calculation_hash text, recalc_reason text, calculated_at_us "
          "bigint)",
      document);
  return replaced;
}

Error batch_not_found(std::string_view batch_id) {
  return Error(ErrorCode::kNotFound, "Batch not found", {{"batch_id", std::string(batch_id)}});
}

// The batch with its results so far; nullopt when unknown.
template <typename Transaction>
std::optional<v1::Batch> load_batch(Transaction& transaction, std::string_view batch_id) {
  const pqxx::result rows = transaction.exec_params(
      "SELECT status, model_count, " + microseconds_of("created_at") + ", " +
          microseconds_of("completed_at") + " FROM scoring.batches WHERE batch_id = $1",
      std::string(batch_id));
  if (rows.empty()) return std::nullopt;
  v1::Batch batch;
  batch.set_batch_id(std::string(batch_id));
  const std::string status = rows[0][0].as<std::string>();
  batch.set_status(status == "processing"  ? v1::BATCH_STATUS_PROCESSING
                   : status == "completed" ? v1::BATCH_STATUS_COMPLETED
                                           : v1::BATCH_STATUS_FAILED);
  batch.set_model_count(rows[0][1].as<std::uint32_t>());
  *batch.mutable_created_at() = timestamp_of(rows[0][2]);
  if (!rows[0][3].is_null()) *batch.mutable_completed_at() = timestamp_of(rows[0][3]);

  const pqxx::result results = transaction.exec_params(
      "SELECT result::text FROM scoring.batch_results WHERE batch_id = $1 ORDER BY position",
      std::string(batch_id));
  for (const pqxx::row& row : results) {
    v1::BatchItemResult& result = *batch.add_results();
    result = from_json<v1::BatchItemResult>(row[0]);
    if (result.success()) {
      batch.set_success_count(batch.success_count() + 1);
    } else {
      batch.set_failure_count(batch.failure_count() + 1);
    }
  }
  return batch;
}

}  // namespace

PgScoreStore::PgScoreStore(common::PgPool& pool, common::pg::StoreSettings settings)
    : pool_(pool), settings_(common::pg::validated(settings, kScores)) {}

Result<std::optional<v1::ModelScore>> PgScoreStore::current(std::string_view model_id) {
  return common::pg::run_read<std::optional<v1::ModelScore>>(
      pool_, settings_, kScores, "reading a score",
      [&](pqxx::read_transaction& transaction) -> Result<std::optional<v1::ModelScore>> {
        const pqxx::result rows = transaction.exec_params(
            "SELECT " + kScoreColumns + " FROM scoring.scores WHERE model_id = $1", std::string(model_id));
        if (rows.empty()) return std::optional<v1::ModelScore>();
        return std::optional<v1::ModelScore>(model_score(rows[0]));
      });
}

Result<std::vector<v1::ModelScore>> PgScoreStore::current_of(const std::vector<std::string>& model_ids) {
  return common::pg::run_read<std::vector<v1::ModelScore>>(
      pool_, settings_, kScores, "reading scores",
      [&](pqxx::read_transaction& transaction) -> Result<std::vector<v1::ModelScore>> {
        std::vector<v1::ModelScore> scores;
        for (const std::string& model_id : model_ids) {
          const pqxx::result rows = transaction.exec_params(
              "SELECT " + kScoreColumns + " FROM scoring.scores WHERE model_id = $1", model_id);
          if (!rows.empty()) scores.push_back(model_score(rows[0]));
        }
        return scores;
      });
}

Result<std::vector<v1::ModelScore>> PgScoreStore::all_current() {
  return common::pg::run_read<std::vector<v1::ModelScore>>(
      pool_, settings_, kScores, "reading every score",
      [&](pqxx::read_transaction& transaction) -> Result<std::vector<v1::ModelScore>> {
        return model_scores(transaction.exec("SELECT " + kScoreColumns +
                                             " FROM scoring.scores ORDER BY overall_score DESC, model_id"));
      });
}

Result<std::optional<double>> PgScoreStore::save(const v1::ModelScore& score) {
  const auto save = [&](pqxx::work& transaction) -> Result<std::optional<double>> {
    return save_score(transaction, score);
  };
  try {
    return common::pg::run_write<std::optional<double>>(pool_, settings_, kScores, "storing a score", save);
  } catch (const std::exception& e) {
    return common::pg::database_error(kScores, "storing a score", e);
  }
}

Result<std::vector<ScoreStore::HistoryEntry>> PgScoreStore::history(std::string_view model_id,
                                                                    std::size_t limit) {
  return common::pg::run_read<std::vector<HistoryEntry>>(
      pool_, settings_, kScores, "reading score history",
      [&](pqxx::read_transaction& transaction) -> Result<std::vector<HistoryEntry>> {
        const pqxx::result rows = transaction.exec_params(
            "SELECT overall_score, previous_overall_score, calculation_hash, reason, " +
                microseconds_of("calculated_at") +
                " FROM (SELECT * FROM scoring.score_history WHERE model_id = $1 ORDER BY id DESC LIMIT $2) h "
                "ORDER BY id",
            std::string(model_id), static_cast<std::int64_t>(limit));
        std::vector<HistoryEntry> entries;
        for (const pqxx::row& row : rows) {
          HistoryEntry entry;
          entry.overall_score = row[0].as<double>();
          if (!row[1].is_null()) entry.previous_overall_score = row[1].as<double>();
          entry.calculation_hash = row[2].as<std::string>();
          entry.reason = row[3].as<std::string>();
          entry.calculated_at_us = row[4].as<std::int64_t>();
          entries.push_back(std::move(entry));
        }
        return entries;
      });
}

PgConfigurationStore::PgConfigurationStore(common::PgPool& pool, common::pg::StoreSettings settings)
    : pool_(pool), settings_(common::pg::validated(settings, kConfigurations)) {}

Result<v1::ScoringConfiguration> PgConfigurationStore::get(std::string_view name) {
  return common::pg::run_read<v1::ScoringConfiguration>(
      pool_, settings_, kConfigurations, "reading a configuration",
      [&](pqxx::read_transaction& transaction) -> Result<v1::ScoringConfiguration> {
        const pqxx::result rows = transaction.exec_params(
            "SELECT " + kConfigurationColumns + " FROM scoring.configurations WHERE name = $1",
            std::string(name));
        if (rows.empty()) {
          return Error(ErrorCode::kNotFound, "Scoring configuration not found",
                       {{"config", std::string(name)}});
        }
        return configuration(rows[0]);
      });
}

Result<v1::ScoringConfiguration> PgConfigurationStore::put(const v1::ScoringConfiguration& config) {
  const auto put = [&](pqxx::work& transaction) -> Result<v1::ScoringConfiguration> {
    const v1::ScoreWeights& weights = config.weights();
    const pqxx::result rows = transaction.exec_params(
        "INSERT INTO scoring.configurations (name, response_speed, model_efficiency, cost_effectiveness, "
        "capability, recency, min_score, max_score, enabled, updated_at) "
        "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, now()) ON CONFLICT (name) DO UPDATE SET "
        "response_speed = EXCLUDED.response_speed, model_efficiency = EXCLUDED.model_efficiency, "
        "cost_effectiveness = EXCLUDED.cost_effectiveness, capability = EXCLUDED.capability, "
        "recency = EXCLUDED.recency, min_score = EXCLUDED.min_score, max_score = EXCLUDED.max_score, "
        "enabled = EXCLUDED.enabled, updated_at = now() RETURNING " +
            kConfigurationColumns,
        config.config_name(), number(weights.response_speed()), number(weights.model_efficiency()),
        number(weights.cost_effectiveness()), number(weights.capability()), number(weights.recency()),
        number(config.thresholds().min_score()), number(config.thresholds().max_score()), config.enabled());
    return configuration(rows[0]);
  };
  try {
    return common::pg::run_write<v1::ScoringConfiguration>(pool_, settings_, kConfigurations,
                                                           "storing a configuration", put);
  } catch (const pqxx::check_violation&) {
    return Error(
        ErrorCode::kInvalidRequest,
        "A configuration name is 1-64 letters, digits, '_', '.' or '-', and weights are not negative",
        {{"config", config.config_name()}});
  } catch (const std::exception& e) {
    return common::pg::database_error(kConfigurations, "storing a configuration", e);
  }
}

PgBatchStore::PgBatchStore(common::PgPool& pool, common::pg::StoreSettings settings,
                           std::optional<std::int64_t> owner_lock)
    : pool_(pool), settings_(common::pg::validated(settings, kBatches)), owner_lock_(owner_lock) {}

Result<v1::Batch> PgBatchStore::create(std::string_view batch_id, const v1::BatchCalculateRequest& request) {
  const auto create = [&](pqxx::work& transaction) -> Result<v1::Batch> {
    const pqxx::result inserted = transaction.exec_params(
        "INSERT INTO scoring.batches (batch_id, status, request, model_count, created_at, owner_lock) "
        "VALUES ($1, 'processing', $2::jsonb, $3, now(), $4) ON CONFLICT (batch_id) DO NOTHING RETURNING "
        "batch_id",
        std::string(batch_id), to_json(request), request.model_ids_size(), owner_lock_);
    if (inserted.empty()) {
      return Error(ErrorCode::kConflict, "Batch already exists", {{"batch_id", std::string(batch_id)}});
    }
    return *load_batch(transaction, batch_id);
  };
  try {
    return common::pg::run_write<v1::Batch>(pool_, settings_, kBatches, "creating a batch", create);
  } catch (const std::exception& e) {
    return common::pg::database_error(kBatches, "creating a batch", e);
  }
}

Result<std::vector<std::optional<double>>> PgBatchStore::add_results(
    std::string_view batch_id, const std::vector<PositionResult>& results,
    const std::vector<v1::ModelScore>& scores) {
  const auto add = [&](pqxx::work& transaction) -> Result<std::vector<std::optional<double>>> {
    std::vector<std::optional<double>> replaced = save_scores(transaction, scores);
    json::array rows;
    for (const PositionResult& item : results) {
      rows.emplace_back(
          json::object{{"position", item.position}, {"result", json::parse(to_json(item.result))}});
    }
    transaction.exec_params0(
        "INSERT INTO scoring.batch_results (batch_id, position, result) SELECT $1, position, result "
        "FROM jsonb_to_recordset($2::jsonb) AS r(position integer, result jsonb) "
        "ON CONFLICT (batch_id, position) DO UPDATE SET result = EXCLUDED.result",
        std::string(batch_id), json::serialize(rows));
    return replaced;
  };
  try {
    return common::pg::run_write<std::vector<std::optional<double>>>(pool_, settings_, kBatches,
                                                                     "storing batch results", add);
  } catch (const std::exception& e) {
    return common::pg::database_error(kBatches, "storing batch results", e);
  }
}

Result<v1::Batch> PgBatchStore::finish(std::string_view batch_id) {
  const auto finish = [&](pqxx::work& transaction) -> Result<v1::Batch> {
    std::optional<v1::Batch> batch = load_batch(transaction, batch_id);
    if (!batch) return batch_not_found(batch_id);
    const bool failed = batch->model_count() > 0 && batch->success_count() == 0;
    transaction.exec_params0(
        "UPDATE scoring.batches SET status = $2, completed_at = now() WHERE batch_id = $1",
        std::string(batch_id), std::string(failed ? "failed" : "completed"));
    return *load_batch(transaction, batch_id);
  };
  try {
    return common::pg::run_write<v1::Batch>(pool_, settings_, kBatches, "finishing a batch", finish);
  } catch (const std::exception& e) {
    return common::pg::database_error(kBatches, "finishing a batch", e);
  }
}

Result<v1::Batch> PgBatchStore::get(std::string_view batch_id) {
  return common::pg::run_read<v1::Batch>(pool_, settings_, kBatches, "reading a batch",
                                         [&](pqxx::read_transaction& transaction) -> Result<v1::Batch> {
                                           std::optional<v1::Batch> batch = load_batch(transaction, batch_id);
                                           if (!batch) return batch_not_found(batch_id);
                                           return std::move(*batch);
                                         });
}

namespace {

// Processing batches whose owner's advisory lock no session of this database holds (a bigint key shows in
// pg_locks as classid, objid = its high and low halves, objsubid 1), claimed for $1 in one statement: two
// replicas adopting at once serialise on the row, and the second sees the first's live lock.
constexpr char kAdoptOrphans[] = R"sql(
WITH adopted AS (
  UPDATE scoring.batches AS b SET owner_lock = $1
   WHERE b.status = 'processing' AND b.owner_lock IS DISTINCT FROM $1
     AND NOT EXISTS (
       SELECT 1 FROM pg_locks AS l
        WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1
          AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
          AND ((l.classid::bigint << 32) | l.objid::bigint) = b.owner_lock)
  RETURNING b.batch_id, b.request, b.created_at)
SELECT batch_id, request::text FROM adopted ORDER BY created_at)sql";

}  // namespace

Result<std::vector<BatchStore::Unfinished>> PgBatchStore::unfinished() {
  return common::pg::run_write<std::vector<Unfinished>>(
      pool_, settings_, kBatches, "adopting unfinished batches",
      [&](pqxx::work& transaction) -> Result<std::vector<Unfinished>> {
        const pqxx::result rows =
            owner_lock_ ? transaction.exec_params(kAdoptOrphans, *owner_lock_)
                        : transaction.exec(
                              "SELECT batch_id, request::text FROM scoring.batches WHERE status = "
                              "'processing' ORDER BY created_at");
        std::vector<Unfinished> batches;
        for (const pqxx::row& row : rows) {
          Unfinished batch;
          batch.batch_id = row[0].as<std::string>();
          batch.request = from_json<v1::BatchCalculateRequest>(row[1]);
          const pqxx::result done = transaction.exec_params(
              "SELECT position FROM scoring.batch_results WHERE batch_id = $1 ORDER BY position",
              batch.batch_id);
          for (const pqxx::row& position : done)
            batch.done_positions.push_back(position[0].as<std::uint32_t>());
          batches.push_back(std::move(batch));
        }
        return batches;
      });
}

}  // namespace rally::scoring
