#include "services/arena/rpc/model_catalog.h"

#include <google/protobuf/util/time_util.h>
#include <grpcpp/grpcpp.h>
#include <spdlog/spdlog.h>

#include <utility>

#include "rally/v1/llm_proxy.grpc.pb.h"
#include "services/common/grpc_status.h"
#include "services/common/request_id.h"

namespace rally::arena {
namespace {

using google::protobuf::util::TimeUtil;
using std::chrono::system_clock;

constexpr std::chrono::milliseconds kRetryDelay{1000};

std::vector<CatalogModel> catalog_of(const v1::ListModelsResponse& response) {
  std::vector<CatalogModel> catalog;
  catalog.reserve(static_cast<std::size_t>(response.models_size()));
  for (const v1::Model& model : response.models()) {
    CatalogModel entry;
    entry.name = model.name();
    entry.price = model.price().usd_per_1k_tokens();
    entry.sampling_weight = model.sampling_weight();
    entry.enabled = model.enabled();
    if (model.has_cooldown_until()) {
      entry.cooldown_until = system_clock::time_point(std::chrono::duration_cast<system_clock::duration>(
          std::chrono::microseconds(TimeUtil::TimestampToMicroseconds(model.cooldown_until()))));
    }
    catalog.push_back(std::move(entry));
  }
  return catalog;
}

void prepare(grpc::ClientContext& context, std::string_view request_id, std::chrono::milliseconds timeout) {
  if (!request_id.empty())
    context.AddMetadata(std::string(common::kRequestIdMetadataKey), std::string(request_id));
  context.set_deadline(system_clock::now() + timeout);
}

}  // namespace

std::vector<PairCandidate> pair_candidates(const std::vector<CatalogModel>& catalog,
                                           system_clock::time_point now) {
  std::vector<PairCandidate> candidates;
  candidates.reserve(catalog.size());
  for (const CatalogModel& model : catalog) {
    candidates.push_back({model.name, model.sampling_weight, model.enabled, model.cooldown_until > now});
  }
  return candidates;
}

struct ModelCatalog::Stub {
  std::unique_ptr<v1::LlmProxy::Stub> llm_proxy;
};

// Async calls in flight: their callbacks use the catalog, so its destructor waits for them (their deadlines
// bound the wait).
struct ModelCatalog::Calls {
  std::mutex mutex;
  std::condition_variable idle;
  int count = 0;
};

ModelCatalog::ModelCatalog(std::shared_ptr<grpc::Channel> llm_proxy, std::chrono::milliseconds timeout,
                           std::chrono::milliseconds refresh, VoteStore& store, double initial_rating,
                           RefreshListener on_refresh)
    : stub_(std::make_unique<Stub>(Stub{v1::LlmProxy::NewStub(llm_proxy)})),
      timeout_(timeout),
      refresh_(refresh),
      store_(store),
      initial_rating_(initial_rating),
      on_refresh_(std::move(on_refresh)),
      calls_(std::make_unique<Calls>()),
      thread_([this] { run(); }) {}

ModelCatalog::~ModelCatalog() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  thread_.join();
  std::unique_lock lock(calls_->mutex);
  calls_->idle.wait(lock, [this] { return calls_->count == 0; });
}

void ModelCatalog::fetch(std::string_view request_id, Fetched done) {
  struct Call {
    grpc::ClientContext context;
    v1::ListModelsRequest request;
    v1::ListModelsResponse response;
    Fetched done;
  };
  auto call = std::make_shared<Call>();
  call->request.set_include_disabled(true);
  call->done = std::move(done);
  prepare(call->context, request_id, timeout_);
  {
    std::lock_guard lock(calls_->mutex);
    ++calls_->count;
  }
  stub_->llm_proxy->async()->ListModels(
      &call->context, &call->request, &call->response, [this, call](const grpc::Status& status) {
        if (status.ok()) {
          call->done(catalog_of(call->response));
        } else {
          common::Error error = common::from_grpc_status(status);
          // The llm-proxy being down is the arena's dependency failing: 503 for the caller either way.
          if (error.code == common::ErrorCode::kApiTimeout)
            error.code = common::ErrorCode::kServiceUnavailable;
          error.message = "The model catalog (llm-proxy) is unavailable: " + error.message;
          call->done(std::move(error));
        }
        // Notified under the lock: the catalog may be destroyed as soon as it is released.
        std::lock_guard lock(calls_->mutex);
        --calls_->count;
        calls_->idle.notify_all();
      });
}

std::vector<std::string> ModelCatalog::known_models() const {
  std::lock_guard lock(mutex_);
  return {known_.begin(), known_.end()};
}

bool ModelCatalog::synced() const {
  std::lock_guard lock(mutex_);
  return synced_;
}

void ModelCatalog::run() {
  // Models stored by earlier runs can be voted on before the llm-proxy answers.
  if (auto stored = store_.ratings(); stored.ok()) {
    std::lock_guard lock(mutex_);
    for (const auto& entry : stored.value()) known_.insert(entry.first);
  }
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    lock.unlock();
    const bool ok = refresh_once();
    lock.lock();
    wake_.wait_for(lock, ok ? refresh_ : kRetryDelay, [this] { return stopping_; });
  }
}

bool ModelCatalog::refresh_once() {
  grpc::ClientContext context;
  prepare(context, {}, timeout_);
  v1::ListModelsRequest request;
  request.set_include_disabled(true);
  v1::ListModelsResponse response;
  const grpc::Status status = stub_->llm_proxy->ListModels(&context, request, &response);
  if (!status.ok()) {
    spdlog::warn("arena: model catalog not read from the llm-proxy: {}", status.error_message());
    return false;
  }
  std::vector<std::string> names;
  PriceTable prices;
  for (const CatalogModel& model : catalog_of(response)) {
    names.push_back(model.name);
    prices[model.name] = model.price;
  }
  common::Result<std::size_t> added = store_.ensure_models(names, initial_rating_);
  if (!added.ok()) {
    spdlog::warn("arena: catalog models not stored: {}", added.error().message);
    return false;
  }
  {
    std::lock_guard lock(mutex_);
    known_.insert(names.begin(), names.end());
    synced_ = true;
  }
  if (added.value() > 0) spdlog::info("arena: {} new model(s) from the catalog", added.value());
  if (on_refresh_) on_refresh_(std::move(prices), added.value() > 0);
  return true;
}

}  // namespace rally::arena
