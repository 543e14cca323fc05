#include "services/scoring/rpc/scoring_sources.h"

#include <google/protobuf/util/time_util.h>
#include <grpcpp/grpcpp.h>
#include <spdlog/spdlog.h>

#include <utility>

#include "rally/v1/arena.grpc.pb.h"
#include "rally/v1/llm_proxy.grpc.pb.h"

namespace rally::scoring {
namespace {

using google::protobuf::util::TimeUtil;

std::string provider_of(v1::ProviderKind kind) {
  switch (kind) {
    case v1::PROVIDER_KIND_OPENAI:
      return "openai";
    case v1::PROVIDER_KIND_ANTHROPIC:
      return "anthropic";
    default:
      // A self-hosted server: models.dev has no entry for it, so the model is scored from the catalog.
      return "openai-compatible";
  }
}

double milliseconds_of(const google::protobuf::Duration& duration) {
  return static_cast<double>(TimeUtil::DurationToMicroseconds(duration)) / 1000.0;
}

}  // namespace

std::vector<CatalogModel> catalog_models_of(const v1::ListModelsResponse& response) {
  std::vector<CatalogModel> models;
  models.reserve(static_cast<std::size_t>(response.models_size()));
  for (const v1::Model& model : response.models()) {
    CatalogModel entry;
    entry.name = model.name();
    entry.display_name = model.display_name();
    entry.provider = provider_of(model.provider());
    entry.upstream_model_id = model.upstream_model();
    // Catalog prices are always set (0 is free); models.dev's own price wins where it has one.
    entry.input_usd_per_1m_tokens = model.price().input_usd_per_1m_tokens();
    entry.output_usd_per_1m_tokens = model.price().output_usd_per_1m_tokens();
    models.push_back(std::move(entry));
  }
  return models;
}

std::map<std::string, MeasuredPerformance, std::less<>> measurements_of(
    const v1::GetUsageStatsResponse& response) {
  std::map<std::string, MeasuredPerformance, std::less<>> measured;
  for (const v1::ModelUsageStats& stats : response.models()) {
    MeasuredPerformance& entry = measured[stats.model()];
    entry.completed_requests =
        stats.requests() > stats.cancelled() ? stats.requests() - stats.cancelled() : 0;
    entry.time_to_first_token_ms = milliseconds_of(stats.p50_time_to_first_token());
    entry.tokens_per_second = stats.p50_tokens_per_second();
    entry.error_rate = stats.error_rate();
  }
  return measured;
}

std::map<std::string, ArenaStanding, std::less<>> standings_of(const v1::LeaderboardResponse& response) {
  const bool fitted = response.bt_votes() > 0;
  std::map<std::string, ArenaStanding, std::less<>> standings;
  for (const v1::LeaderboardEntry& entry : response.entries()) {
    standings[entry.name()] = {fitted ? entry.bt_rating() : entry.score(), entry.votes()};
  }
  return standings;
}

struct SourceReader::Stubs {
  std::unique_ptr<v1::LlmProxy::Stub> llm_proxy;
  std::unique_ptr<v1::Arena::Stub> arena;
};

SourceReader::SourceReader(std::shared_ptr<grpc::Channel> llm_proxy, std::shared_ptr<grpc::Channel> arena,
                           std::chrono::milliseconds timeout)
    : stubs_(std::make_unique<Stubs>(Stubs{v1::LlmProxy::NewStub(llm_proxy), v1::Arena::NewStub(arena)})),
      timeout_(timeout) {}

SourceReader::~SourceReader() = default;

ScoringSources SourceReader::read() {
  const auto deadline = [this](grpc::ClientContext& context) {
    context.set_deadline(std::chrono::system_clock::now() + timeout_);
  };

  grpc::ClientContext catalog_context;
  deadline(catalog_context);
  v1::ListModelsRequest catalog_request;
  catalog_request.set_include_disabled(true);  // a disabled model is still a model with a score
  v1::ListModelsResponse catalog;
  const grpc::Status catalog_status =
      stubs_->llm_proxy->ListModels(&catalog_context, catalog_request, &catalog);

  grpc::ClientContext usage_context;
  deadline(usage_context);
  v1::GetUsageStatsResponse usage;
  const grpc::Status usage_status =
      stubs_->llm_proxy->GetUsageStats(&usage_context, v1::GetUsageStatsRequest(), &usage);

  grpc::ClientContext arena_context;
  deadline(arena_context);
  v1::LeaderboardResponse leaderboard;
  const grpc::Status arena_status =
      stubs_->arena->Leaderboard(&arena_context, v1::LeaderboardRequest(), &leaderboard);

  std::lock_guard lock(mutex_);
  if (catalog_status.ok()) {
    last_.catalog = catalog_models_of(catalog);
    catalog_read_ = true;
  } else {
    spdlog::warn("scoring: catalog not read from the llm-proxy ({}), keeping {} models read before",
                 catalog_status.error_message(), last_.catalog.size());
  }
  if (usage_status.ok()) {
    last_.measured = measurements_of(usage);
  } else {
    spdlog::warn("scoring: usage statistics not read from the llm-proxy ({})", usage_status.error_message());
  }
  if (arena_status.ok()) {
    last_.arena = standings_of(leaderboard);
  } else {
    spdlog::warn("scoring: arena ratings not read ({})", arena_status.error_message());
  }
  return last_;
}

bool SourceReader::catalog_read() const {
  std::lock_guard lock(mutex_);
  return catalog_read_;
}

}  // namespace rally::scoring
