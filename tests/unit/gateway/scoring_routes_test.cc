// The scoring routes served by the real HTTP server over real sockets, with a fake rally.v1.Scoring (an
// in-process gRPC service that records what it is asked and answers canned replies or an error). No
// admission guard: tokens and rate limits are tested with the edge; here, what each route sends upstream and
// how it answers.
#include "gateway/routes/scoring_routes.h"

#include <google/protobuf/util/time_util.h>
#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>
#include <grpcpp/security/server_credentials.h>
#include <grpcpp/server.h>
#include <grpcpp/server_builder.h>

#include <boost/json.hpp>
#include <catch2/catch.hpp>
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "gateway/http/http_server.h"
#include "gateway/http/router.h"
#include "rally/v1/scoring.grpc.pb.h"
#include "services/common/grpc_status.h"
#include "services/common/metrics.h"
#include "services/common/request_id.h"
#include "tests/support/http_client.h"

namespace rally::gateway::routes {
namespace {

namespace json = boost::json;
using google::protobuf::util::TimeUtil;
using namespace std::chrono_literals;

v1::ModelScore canned_score() {
  v1::ModelScore score;
  score.set_model_id("openai/gpt-4o");
  score.set_model_name("GPT-4o");
  score.set_overall_score(8.5);
  score.set_score_suffix("(SC:8.5)");
  v1::ScoreComponents& components = *score.mutable_components();
  components.set_speed_score(8.0);
  components.set_efficiency_score(9.0);
  components.set_cost_score(7.5);
  components.set_capability_score(9.0);
  components.set_recency_score(8.5);
  *score.mutable_last_calculated() = TimeUtil::SecondsToTimestamp(1795341600);  // 2026-11-22T10:00:00Z
  *score.mutable_valid_until() = TimeUtil::SecondsToTimestamp(1795341600 + 86400);
  score.set_data_source("models.dev");
  score.set_calculation_hash("abc123def456");
  score.set_algorithm_version("1");
  return score;
}

v1::Batch canned_batch(v1::BatchStatus status) {
  v1::Batch batch;
  batch.set_batch_id("batch_1234567890");
  batch.set_status(status);
  batch.set_model_count(2);
  if (status != v1::BATCH_STATUS_PROCESSING) {
    v1::BatchItemResult* done = batch.add_results();
    done->set_model_id("openai/gpt-4o");
    done->set_success(true);
    *done->mutable_score() = canned_score();
    v1::BatchItemResult* failed = batch.add_results();
    failed->set_model_id("nope");
    failed->set_success(false);
    failed->mutable_error()->set_code("MODEL_NOT_FOUND");
    failed->mutable_error()->set_message("Model with ID 'nope' not found");
    batch.set_success_count(1);
    batch.set_failure_count(1);
  }
  return batch;
}

// One recorded call: the method, the request as text, the request id it carried and the time left before
// its deadline when it arrived.
struct RecordedCall {
  std::string method;
  std::string request;  // the request message, serialized
  std::string request_id;
  std::chrono::milliseconds time_left{0};
};

// Answers every method with a canned reply, or every call with `failure` once set.
class FakeScoring final : public v1::Scoring::CallbackService {
 public:
  void fail_with(grpc::Status status) {
    std::lock_guard lock(mutex_);
    failure_ = std::move(status);
  }
  void set_batch(v1::Batch batch) {
    std::lock_guard lock(mutex_);
    batch_ = std::move(batch);
  }
  std::vector<RecordedCall> calls() {
    std::lock_guard lock(mutex_);
    return calls_;
  }
  // The only call so far, which must be of `method`, its request parsed as `Request`.
  template <typename Request>
  Request only_request(std::string_view method) {
    const std::vector<RecordedCall> recorded = calls();
    REQUIRE(recorded.size() == 1);
    REQUIRE(recorded.front().method == method);
    Request request;
    REQUIRE(request.ParseFromString(recorded.front().request));
    return request;
  }

  grpc::ServerUnaryReactor* CalculateScore(grpc::CallbackServerContext* context,
                                           const v1::CalculateScoreRequest* request,
                                           v1::ModelScore* reply) override {
    return answer(context, "CalculateScore", *request, reply, canned_score());
  }
  grpc::ServerUnaryReactor* GetScore(grpc::CallbackServerContext* context, const v1::GetScoreRequest* request,
                                     v1::ModelScore* reply) override {
    return answer(context, "GetScore", *request, reply, canned_score());
  }
  grpc::ServerUnaryReactor* RecalculateScore(grpc::CallbackServerContext* context,
                                             const v1::RecalculateScoreRequest* request,
                                             v1::ModelScore* reply) override {
    v1::ModelScore score = canned_score();
    score.set_overall_score(8.7);
    score.set_score_suffix("(SC:8.7)");
    score.set_recalc_reason(request->reason());
    return answer(context, "RecalculateScore", *request, reply, score);
  }
  grpc::ServerUnaryReactor* BatchCalculate(grpc::CallbackServerContext* context,
                                           const v1::BatchCalculateRequest* request,
                                           v1::Batch* reply) override {
    return answer(context, "BatchCalculate", *request, reply, batch());
  }
  grpc::ServerUnaryReactor* GetBatch(grpc::CallbackServerContext* context, const v1::GetBatchRequest* request,
                                     v1::Batch* reply) override {
    return answer(context, "GetBatch", *request, reply, batch());
  }
  grpc::ServerUnaryReactor* AddSuffix(grpc::CallbackServerContext* context,
                                      const v1::AddSuffixRequest* request,
                                      v1::AddSuffixResponse* reply) override {
    v1::AddSuffixResponse response;
    response.set_original_name(request->model_name());
    response.set_updated_name(request->model_name() + " (SC:8.5)");
    response.set_score(request->score());
    response.set_score_suffix("(SC:8.5)");
    return answer(context, "AddSuffix", *request, reply, response);
  }
  grpc::ServerUnaryReactor* BatchUpdateNames(grpc::CallbackServerContext* context,
                                             const v1::BatchUpdateNamesRequest* request,
                                             v1::BatchUpdateNamesResponse* reply) override {
    v1::BatchUpdateNamesResponse response;
    for (const auto& [name, score] : request->model_scores()) {
      (*response.mutable_results())[name] = name + " (SC:" + (score == 8.5 ? "8.5" : "?") + ")";
    }
    response.set_count(static_cast<std::uint32_t>(request->model_scores_size()));
    return answer(context, "BatchUpdateNames", *request, reply, response);
  }
  grpc::ServerUnaryReactor* CompareScores(grpc::CallbackServerContext* context,
                                          const v1::CompareScoresRequest* request,
                                          v1::CompareScoresResponse* reply) override {
    v1::CompareScoresResponse response;
    std::uint32_t rank = 0;
    for (const std::string& id : request->model_ids()) {
      response.add_models(id);
      v1::ComparedModel* model = response.add_results();
      model->set_model_id(id);
      model->set_model_name(id);
      model->set_overall_score(9.0 - rank);
      model->set_rank(++rank);
    }
    response.set_best_model(request->model_ids(0));
    response.set_analysis("The first is best.");
    return answer(context, "CompareScores", *request, reply, response);
  }
  grpc::ServerUnaryReactor* GetRanking(grpc::CallbackServerContext* context,
                                       const v1::GetRankingRequest* request,
                                       v1::GetRankingResponse* reply) override {
    v1::GetRankingResponse response;
    response.set_category(request->category());
    v1::RankedModel* first = response.add_rankings();
    first->set_rank(1);
    first->set_model_id("openai/gpt-4o");
    first->set_model_name("GPT-4o (SC:8.5)");
    first->set_overall_score(8.5);
    first->set_score_suffix("(SC:8.5)");
    first->set_category_score(8.0);
    response.set_total_models(25);
    response.set_filtered_models(10);
    return answer(context, "GetRanking", *request, reply, response);
  }
  grpc::ServerUnaryReactor* GetConfiguration(grpc::CallbackServerContext* context,
                                             const v1::GetConfigurationRequest* request,
                                             v1::ScoringConfiguration* reply) override {
    v1::ScoringConfiguration configuration;
    configuration.set_config_name(request->config_name());
    configuration.mutable_weights()->set_response_speed(0.25);
    configuration.mutable_thresholds()->set_max_score(10);
    configuration.set_enabled(true);
    return answer(context, "GetConfiguration", *request, reply, configuration);
  }
  grpc::ServerUnaryReactor* PutConfiguration(grpc::CallbackServerContext* context,
                                             const v1::PutConfigurationRequest* request,
                                             v1::ScoringConfiguration* reply) override {
    return answer(context, "PutConfiguration", *request, reply, request->configuration());
  }
  grpc::ServerUnaryReactor* ValidateScore(grpc::CallbackServerContext* context,
                                          const v1::ValidateScoreRequest* request,
                                          v1::ValidateScoreResponse* reply) override {
    v1::ValidateScoreResponse response;
    response.set_model_id(request->model_id());
    response.set_score(request->score());
    response.set_method(request->method());
    response.set_is_valid(true);
    response.mutable_validation_result()->set_within_expected_range(true);
    response.mutable_validation_result()->set_component_scores_valid(true);
    response.mutable_validation_result()->set_calculation_hash_verified(true);
    response.set_message("Score validation completed successfully");
    return answer(context, "ValidateScore", *request, reply, response);
  }

 private:
  v1::Batch batch() {
    std::lock_guard lock(mutex_);
    return batch_;
  }

  template <typename Request, typename Reply>
  grpc::ServerUnaryReactor* answer(grpc::CallbackServerContext* context, std::string method,
                                   const Request& request, Reply* reply, const Reply& canned) {
    grpc::Status status;
    {
      std::lock_guard lock(mutex_);
      const auto& metadata = context->client_metadata();
      const auto id = metadata.find(std::string(common::kRequestIdMetadataKey));
      calls_.push_back({std::move(method), request.SerializeAsString(),
                        id == metadata.end() ? "" : std::string(id->second.data(), id->second.size()),
                        std::chrono::duration_cast<std::chrono::milliseconds>(
                            context->deadline() - std::chrono::system_clock::now())});
      status = failure_;
    }
    if (status.ok()) *reply = canned;
    auto* reactor = context->DefaultReactor();
    reactor->Finish(status);
    return reactor;
  }

  std::mutex mutex_;
  grpc::Status failure_;
  v1::Batch batch_ = canned_batch(v1::BATCH_STATUS_COMPLETED);
  std::vector<RecordedCall> calls_;
};

// The fake service and the scoring routes on a real HTTP server, torn down in reverse.
class ScoringStack {
 public:
  explicit ScoringStack(FakeScoring& scoring) {
    grpc::ServerBuilder builder;
    int port = 0;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
    builder.RegisterService(&scoring);
    scoring_server_ = builder.BuildAndStart();
    REQUIRE(scoring_server_ != nullptr);
    const auto channel =
        grpc::CreateChannel("127.0.0.1:" + std::to_string(port), grpc::InsecureChannelCredentials());
    add_scoring_routes(router_, channel, {5s, 120s}, common::metrics::Registry::global());
    http::HttpServerSettings settings;
    settings.listen = {"127.0.0.1", 0};
    server_ = std::make_unique<http::HttpServer>(settings, router_, common::metrics::Registry::global());
  }

  ~ScoringStack() {
    server_.reset();
    scoring_server_->Shutdown(std::chrono::system_clock::now() + 1s);
  }

  rally::testing::HttpResult request(const std::string& method, const std::string& target,
                                     const std::string& body = {}) {
    std::map<std::string, std::string> headers;
    if (!body.empty()) headers["Content-Type"] = "application/json";
    return rally::testing::http_request(server_->port(), method, target, body, headers);
  }

 private:
  std::unique_ptr<grpc::Server> scoring_server_;
  http::Router router_;
  std::unique_ptr<http::HttpServer> server_;
};

// The success envelope of `result` (with `status`), checked for its shape; returns it whole.
json::object success(const rally::testing::HttpResult& result, int status = 200) {
  INFO(result.body);
  REQUIRE(result.status == status);
  json::object envelope = json::parse(result.body).as_object();
  CHECK(envelope.at("success").as_bool());
  const json::object& metadata = envelope.at("metadata").as_object();
  CHECK(metadata.at("request_id").as_string() == result.header("x-request-id"));
  CHECK(metadata.at("timestamp").is_string());
  CHECK(metadata.at("processing_time_ms").is_number());
  return envelope;
}

// The error envelope of `result`: its status and error code; returns the error object.
json::object failure(const rally::testing::HttpResult& result, int status, std::string_view code) {
  INFO(result.body);
  REQUIRE(result.status == status);
  const json::object envelope = json::parse(result.body).as_object();
  CHECK_FALSE(envelope.at("success").as_bool());
  CHECK(envelope.at("error").at("code").as_string() == code);
  return envelope.at("error").as_object();
}

void check_seed_score(const json::object& data) {
  CHECK(data.at("model_id").as_string() == "openai/gpt-4o");
  CHECK(data.at("model_name").as_string() == "GPT-4o");
  CHECK(data.at("overall_score").as_double() == 8.5);
  CHECK(data.at("score_suffix").as_string() == "(SC:8.5)");
  CHECK(data.at("components").at("speed_score").as_double() == 8.0);
  CHECK(data.at("components").at("recency_score").as_double() == 8.5);
  CHECK(data.at("last_calculated").as_string() == "2026-11-22T10:00:00Z");
  CHECK(data.at("valid_until").as_string() == "2026-11-23T10:00:00Z");
  CHECK(data.at("data_source").as_string() == "models.dev");
  CHECK(data.at("calculation_hash").as_string() == "abc123def456");
}

TEST_CASE("POST score/calculate sends the decoded model id, weights and force flag", "[scoring_routes]") {
  FakeScoring scoring;
  ScoringStack stack(scoring);
  const auto result = stack.request("POST", "/api/v1/models/openai%2Fgpt-4o/score/calculate",
                                    R"({"configuration":{"config_name":"fast","weights":{"capability":0.5,)"
                                    R"("recency":0.1}},"force_recalculation":true})");
  const json::object envelope = success(result);
  check_seed_score(envelope.at("data").as_object());

  const auto request = scoring.only_request<v1::CalculateScoreRequest>("CalculateScore");
  CHECK(request.model_id() == "openai/gpt-4o");
  CHECK(request.configuration().config_name() == "fast");
  CHECK(request.configuration().weights().capability() == 0.5);
  CHECK(request.configuration().weights().recency() == 0.1);
  CHECK_FALSE(request.configuration().weights().has_response_speed());
  CHECK(request.force_recalculation());
  const RecordedCall call = scoring.calls().front();
  CHECK(call.request_id == result.header("x-request-id"));
  CHECK(call.time_left > 1s);
  CHECK(call.time_left <= 5s);
}

TEST_CASE("POST score/calculate with no body calculates with the defaults", "[scoring_routes]") {
  FakeScoring scoring;
  ScoringStack stack(scoring);
  success(stack.request("POST", "/api/v1/models/gpt-4/score/calculate"));
  const auto request = scoring.only_request<v1::CalculateScoreRequest>("CalculateScore");
  CHECK(request.model_id() == "gpt-4");
  CHECK_FALSE(request.force_recalculation());
  CHECK(request.configuration().config_name().empty());
}

TEST_CASE("GET score asks for the decoded model's stored score", "[scoring_routes]") {
  FakeScoring scoring;
  ScoringStack stack(scoring);
  const json::object envelope = success(stack.request("GET", "/api/v1/models/openai%2Fgpt-4o/score"));
  check_seed_score(envelope.at("data").as_object());
  CHECK(scoring.only_request<v1::GetScoreRequest>("GetScore").model_id() == "openai/gpt-4o");
}

TEST_CASE("PUT score/recalculate sends the reason and answers the recalculated score", "[scoring_routes]") {
  FakeScoring scoring;
  ScoringStack stack(scoring);
  const json::object envelope =
      success(stack.request("PUT", "/api/v1/models/openai%2Fgpt-4o/score/recalculate",
                            R"({"reason":"Model capabilities updated"})"));
  const json::object& data = envelope.at("data").as_object();
  CHECK(data.at("message").as_string() == "Score recalculated successfully");
  CHECK(data.at("model_id").as_string() == "openai/gpt-4o");
  CHECK(data.at("overall_score").as_double() == 8.7);
  CHECK(data.at("recalc_reason").as_string() == "Model capabilities updated");
  const auto request = scoring.only_request<v1::RecalculateScoreRequest>("RecalculateScore");
  CHECK(request.model_id() == "openai/gpt-4o");
  CHECK(request.reason() == "Model capabilities updated");
}

TEST_CASE("a synchronous batch is 200 with its results under the batch deadline", "[scoring_routes]") {
  FakeScoring scoring;
  ScoringStack stack(scoring);
  const json::object envelope = success(
      stack.request("POST", "/api/v1/models/scores/batch",
                    R"({"model_ids":["openai/gpt-4o","nope"],"async":false,"force_recalculation":true})"));
  const json::object& data = envelope.at("data").as_object();
  CHECK(data.at("message").as_string() == "Batch score calculation completed");
  CHECK(data.at("batch_id").as_string() == "batch_1234567890");
  CHECK(data.at("status").as_string() == "completed");
  CHECK(data.at("model_count").as_int64() == 2);
  CHECK(data.at("success_count").as_int64() == 1);
  CHECK(data.at("failure_count").as_int64() == 1);
  const json::array& results = data.at("results").as_array();
  REQUIRE(results.size() == 2);
  CHECK(results.at(0).at("success").as_bool());
  CHECK(results.at(0).at("overall_score").as_double() == 8.5);
  CHECK_FALSE(results.at(1).at("success").as_bool());
  CHECK(results.at(1).at("error").at("code").as_string() == "MODEL_NOT_FOUND");

  const auto request = scoring.only_request<v1::BatchCalculateRequest>("BatchCalculate");
  CHECK(std::vector<std::string>(request.model_ids().begin(), request.model_ids().end()) ==
        std::vector<std::string>{"openai/gpt-4o", "nope"});
  CHECK_FALSE(request.async());
  CHECK(request.force_recalculation());
  CHECK(scoring.calls().front().time_left > 60s);  // batch_timeout, not timeout
}

TEST_CASE("an asynchronous batch is 202 while processing, then polled by id", "[scoring_routes]") {
  FakeScoring scoring;
  scoring.set_batch(canned_batch(v1::BATCH_STATUS_PROCESSING));
  ScoringStack stack(scoring);
  const json::object accepted = success(
      stack.request("POST", "/api/v1/models/scores/batch", R"({"model_ids":["a","b"],"async":true})"), 202);
  const json::object& data = accepted.at("data").as_object();
  CHECK(data.at("message").as_string() == "Batch score calculation started");
  CHECK(data.at("status").as_string() == "processing");
  CHECK(data.at("model_count").as_int64() == 2);
  CHECK(scoring.only_request<v1::BatchCalculateRequest>("BatchCalculate").async());
  CHECK(scoring.calls().front().time_left <= 5s);

  scoring.set_batch(canned_batch(v1::BATCH_STATUS_COMPLETED));
  const json::object polled = success(stack.request("GET", "/api/v1/models/scores/batch/batch_1234567890"));
  CHECK(polled.at("data").at("status").as_string() == "completed");
  const std::vector<RecordedCall> calls = scoring.calls();
  REQUIRE(calls.size() == 2);
  CHECK(calls.at(1).method == "GetBatch");
  v1::GetBatchRequest get;
  REQUIRE(get.ParseFromString(calls.at(1).request));
  CHECK(get.batch_id() == "batch_1234567890");
}

TEST_CASE("a batch that failed as a whole is still answered 200", "[scoring_routes]") {
  FakeScoring scoring;
  scoring.set_batch(canned_batch(v1::BATCH_STATUS_FAILED));
  ScoringStack stack(scoring);
  const json::object envelope =
      success(stack.request("POST", "/api/v1/models/scores/batch", R"({"model_ids":["nope"]})"));
  CHECK(envelope.at("data").at("status").as_string() == "failed");
}

TEST_CASE("the naming routes send names and scores and answer the suffixed names", "[scoring_routes]") {
  FakeScoring scoring;
  ScoringStack stack(scoring);
  SECTION("add-suffix") {
    const json::object envelope = success(
        stack.request("POST", "/api/v1/models/naming/add-suffix", R"({"model_name":"GPT-4","score":8.5})"));
    CHECK(envelope.at("data").as_object() == json::object{{"original_name", "GPT-4"},
                                                          {"updated_name", "GPT-4 (SC:8.5)"},
                                                          {"score", 8.5},
                                                          {"score_suffix", "(SC:8.5)"}});
    const auto request = scoring.only_request<v1::AddSuffixRequest>("AddSuffix");
    CHECK(request.model_name() == "GPT-4");
    CHECK(request.score() == 8.5);
  }
  SECTION("batch-update") {
    const json::object envelope = success(stack.request("POST", "/api/v1/models/naming/batch-update",
                                                        R"({"model_scores":{"GPT-4":8.5,"Claude-3":7.8}})"));
    const json::object& data = envelope.at("data").as_object();
    CHECK(data.at("message").as_string() == "Model names updated successfully");
    CHECK(data.at("results").at("GPT-4").as_string() == "GPT-4 (SC:8.5)");
    CHECK(data.at("count").as_int64() == 2);
    const auto request = scoring.only_request<v1::BatchUpdateNamesRequest>("BatchUpdateNames");
    CHECK(request.model_scores().size() == 2u);
    CHECK(request.model_scores().at("Claude-3") == 7.8);
  }
}

TEST_CASE("GET compare sends the listed models, decoded and without repeats", "[scoring_routes]") {
  FakeScoring scoring;
  ScoringStack stack(scoring);
  const json::object envelope =
      success(stack.request("GET", "/api/v1/models/scores/compare?models=openai%2Fgpt-4o,claude-3,claude-3"));
  const json::object& comparison = envelope.at("data").at("comparison").as_object();
  CHECK(comparison.at("best_model").as_string() == "openai/gpt-4o");
  CHECK(comparison.at("results").as_array().size() == 2);
  CHECK(comparison.at("results").at(0).at("rank").as_int64() == 1);
  CHECK(comparison.at("analysis").as_string() == "The first is best.");
  const auto request = scoring.only_request<v1::CompareScoresRequest>("CompareScores");
  CHECK(std::vector<std::string>(request.model_ids().begin(), request.model_ids().end()) ==
        std::vector<std::string>{"openai/gpt-4o", "claude-3"});
}

TEST_CASE("GET ranking sends the filters and puts the model counts in the metadata", "[scoring_routes]") {
  FakeScoring scoring;
  ScoringStack stack(scoring);
  const json::object envelope = success(stack.request(
      "GET", "/api/v1/models/scores/ranking?category=speed&limit=10&min_score=7.0&max_score=10"));
  const json::object& data = envelope.at("data").as_object();
  CHECK(data.at("category").as_string() == "speed");
  REQUIRE(data.at("rankings").as_array().size() == 1);
  CHECK(data.at("rankings").at(0).at("model_name").as_string() == "GPT-4o (SC:8.5)");
  CHECK(data.at("rankings").at(0).at("category_score").as_double() == 8.0);
  CHECK_FALSE(data.contains("total_models"));
  const json::object& metadata = envelope.at("metadata").as_object();
  CHECK(metadata.at("total_models").as_int64() == 25);
  CHECK(metadata.at("filtered_models").as_int64() == 10);

  const auto request = scoring.only_request<v1::GetRankingRequest>("GetRanking");
  CHECK(request.category() == v1::SCORE_CATEGORY_SPEED);
  CHECK(request.limit() == 10u);
  CHECK(request.min_score() == 7.0);
  CHECK(request.max_score() == 10.0);
}

TEST_CASE("GET configuration asks for the named configuration, default when none", "[scoring_routes]") {
  FakeScoring scoring;
  ScoringStack stack(scoring);
  const json::object named = success(stack.request("GET", "/api/v1/scoring/configuration?config=fast"));
  CHECK(named.at("data").at("config_name").as_string() == "fast");
  CHECK(named.at("data").at("weights").at("response_speed").as_double() == 0.25);
  CHECK(named.at("data").at("enabled").as_bool());
  const json::object fallback = success(stack.request("GET", "/api/v1/scoring/configuration"));
  CHECK(fallback.at("data").at("config_name").as_string() == "default");
  const std::vector<RecordedCall> calls = scoring.calls();
  REQUIRE(calls.size() == 2);
  v1::GetConfigurationRequest second;
  REQUIRE(second.ParseFromString(calls.at(1).request));
  CHECK(second.config_name() == "default");
}

TEST_CASE("PUT configuration sends the named configuration", "[scoring_routes]") {
  FakeScoring scoring;
  ScoringStack stack(scoring);
  const json::object envelope = success(stack.request(
      "PUT", "/api/v1/scoring/configuration/fast",
      R"({"weights":{"response_speed":0.4,"model_efficiency":0.2,"cost_effectiveness":0.2,"capability":0.1,)"
      R"("recency":0.1},"thresholds":{"min_score":1,"max_score":9},"enabled":false})"));
  CHECK(envelope.at("data").at("config_name").as_string() == "fast");
  CHECK(envelope.at("data").at("thresholds").at("max_score").as_double() == 9.0);
  const auto request = scoring.only_request<v1::PutConfigurationRequest>("PutConfiguration");
  CHECK(request.configuration().config_name() == "fast");
  CHECK(request.configuration().weights().response_speed() == 0.4);
  CHECK(request.configuration().thresholds().min_score() == 1.0);
  CHECK_FALSE(request.configuration().enabled());
}

TEST_CASE("POST validate sends the score, method and range", "[scoring_routes]") {
  FakeScoring scoring;
  ScoringStack stack(scoring);
  const json::object envelope =
      success(stack.request("POST", "/api/v1/scoring/validate",
                            R"({"model_id":"gpt-4","score":8.5,"expected_range":{"min":7.0,"max":10.0}})"));
  const json::object& data = envelope.at("data").as_object();
  CHECK(data.at("model_id").as_string() == "gpt-4");
  CHECK(data.at("method").as_string() == "comprehensive_scoring");
  CHECK(data.at("is_valid").as_bool());
  CHECK(data.at("validation_result").at("calculation_hash_verified").as_bool());
  CHECK(data.at("message").as_string() == "Score validation completed successfully");
  const auto request = scoring.only_request<v1::ValidateScoreRequest>("ValidateScore");
  CHECK(request.score() == 8.5);
  CHECK(request.expected_range().min() == 7.0);
  CHECK(request.expected_range().max() == 10.0);
}

TEST_CASE("a refused body or query is 400 naming the field, and nothing is sent upstream",
          "[scoring_routes]") {
  FakeScoring scoring;
  ScoringStack stack(scoring);
  const struct {
    std::string method;
    std::string target;
    std::string body;
    std::string field;
  } refused[] = {
      {"POST", "/api/v1/models/gpt-4/score/calculate", R"({"configuration":{"weights":{"capabilty":1}}})",
       "configuration.weights.capabilty"},
      {"POST", "/api/v1/models/gpt-4/score/calculate", R"({"force_recalculation":"yes"})",
       "force_recalculation"},
      {"PUT", "/api/v1/models/gpt-4/score/recalculate", R"({"reason":7})", "reason"},
      {"POST", "/api/v1/models/scores/batch", R"({"async":true})", "model_ids"},
      {"POST", "/api/v1/models/naming/add-suffix", R"({"model_name":"GPT-4","score":11})", "score"},
      {"POST", "/api/v1/models/naming/batch-update", R"({"model_scores":{}})", "model_scores"},
      {"GET", "/api/v1/models/scores/compare?models=gpt-4", "", "models"},
      {"GET", "/api/v1/models/scores/ranking?limit=0", "", "limit"},
      {"PUT", "/api/v1/scoring/configuration/fast", R"({"weights":{"capability":1}})",
       "weights.response_speed"},
      {"POST", "/api/v1/scoring/validate", R"({"score":5})", "model_id"},
  };
  for (const auto& [method, target, body, field] : refused) {
    CAPTURE(method, target, body);
    const json::object error = failure(stack.request(method, target, body), 400, "INVALID_REQUEST");
    CHECK(error.at("details").at("field").as_string() == field);
  }
  CHECK(scoring.calls().empty());
}

TEST_CASE("a service error reaches the client in the error envelope", "[scoring_routes]") {
  FakeScoring scoring;
  ScoringStack stack(scoring);
  SECTION("MODEL_NOT_FOUND is 404 with the service's message and details") {
    scoring.fail_with(common::to_grpc_status(common::Error(common::ErrorCode::kModelNotFound,
                                                           "Model with ID 'invalid-model' not found",
                                                           {{"model_id", "invalid-model"}})));
    const auto result = stack.request("GET", "/api/v1/models/invalid-model/score");
    const json::object error = failure(result, 404, "MODEL_NOT_FOUND");
    CHECK(error.at("message").as_string() == "Model with ID 'invalid-model' not found");
    CHECK(error.at("details").at("model_id").as_string() == "invalid-model");
    CHECK(json::parse(result.body).at("metadata").at("request_id").as_string() ==
          result.header("x-request-id"));
    CHECK(scoring.only_request<v1::GetScoreRequest>("GetScore").model_id() == "invalid-model");
  }
  SECTION("a service that does not implement the method yet is 501") {
    scoring.fail_with(grpc::Status(grpc::StatusCode::UNIMPLEMENTED, ""));
    failure(stack.request("GET", "/api/v1/models/scores/ranking"), 501, "NOT_IMPLEMENTED");
  }
}

}  // namespace
}  // namespace rally::gateway::routes
