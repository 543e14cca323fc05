#include "services/scoring/rpc/score_watchers.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <deque>
#include <utility>

#include "services/common/redis_client.h"

namespace rally::scoring {

bool wants(const std::vector<std::string>& model_ids, const v1::ScoreUpdate& update) {
  if (model_ids.empty()) return true;
  for (const std::string& id : model_ids) {
    if (id == "*" || id == update.score().model_id()) return true;
    if (std::find(update.model_aliases().begin(), update.model_aliases().end(), id) !=
        update.model_aliases().end()) {
      return true;
    }
  }
  return false;
}

// One WatchScores stream. The registry holds it (shared) from watch() until its OnDone; a delivery in
// progress may briefly hold it longer. gRPC is never called with a lock held: a reaction that gRPC runs
// inline could otherwise take the same lock.
class ScoreWatchers::Watcher final : public grpc::ServerWriteReactor<v1::ScoreUpdate> {
 public:
  Watcher(ScoreWatchers& registry, std::vector<std::string> model_ids)
      : registry_(registry), model_ids_(std::move(model_ids)) {}

  // Any thread (the Redis thread, the service's stop).
  void offer(const v1::ScoreUpdate& update) {
    if (!wants(model_ids_, update)) return;
    {
      std::lock_guard lock(mutex_);
      if (ended_) return;
      if (queue_.size() >= registry_.max_queued_) {
        end_locked(grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED,
                                "Score watcher too slow: " + std::to_string(queue_.size()) +
                                    " updates waiting; watch again to resume"));
      } else {
        queue_.push_back(update);
      }
    }
    pump();
  }

  void end(grpc::Status status) {
    {
      std::lock_guard lock(mutex_);
      end_locked(std::move(status));
    }
    pump();
  }

  void OnWriteDone(bool ok) override {
    {
      std::lock_guard lock(mutex_);
      writing_ = false;
      queue_.pop_front();
      if (!ok) end_locked(grpc::Status(grpc::StatusCode::CANCELLED, "The watcher went away"));
    }
    pump();
  }

  void OnCancel() override { end(grpc::Status::CANCELLED); }

  void OnDone() override {
    // The last reference may be this one: nothing of the watcher is touched after it goes.
    const std::shared_ptr<Watcher> last = registry_.forget(this);
  }

 private:
  void end_locked(grpc::Status status) {
    if (ended_) return;
    ended_ = true;
    status_ = std::move(status);
  }

  // Starts the next write, or, once ended and no write is in progress, the Finish.
  void pump() {
    const v1::ScoreUpdate* next = nullptr;
    {
      std::lock_guard lock(mutex_);
      if (writing_ || finish_started_) return;
      if (ended_) {
        finish_started_ = true;
        queue_.clear();
      } else if (!queue_.empty()) {
        writing_ = true;
        next = &queue_.front();  // stays put: a deque's push_back keeps references valid
      } else {
        return;
      }
    }
    if (next != nullptr) {
      StartWrite(next);
    } else {
      Finish(status_);  // status_ no longer changes once ended_
    }
  }

  ScoreWatchers& registry_;
  const std::vector<std::string> model_ids_;
  std::mutex mutex_;
  std::deque<v1::ScoreUpdate> queue_;  // the front is being written while writing_
  bool writing_ = false;
  bool ended_ = false;
  bool finish_started_ = false;
  grpc::Status status_;
};

ScoreWatchers::ScoreWatchers(const common::RedisSettings& redis, std::string channel, std::size_t max_queued)
    : max_queued_(max_queued),
      subscriber_(std::make_unique<common::RedisSubscriber>(
          redis, std::vector<std::string>{std::move(channel)}, false,
          [this](std::string_view, std::string_view payload) { deliver(payload); })) {}

ScoreWatchers::~ScoreWatchers() {
  end_all();
  subscriber_.reset();
  std::unique_lock lock(mutex_);
  all_done_.wait(lock, [this] { return watchers_.empty(); });
}

grpc::ServerWriteReactor<v1::ScoreUpdate>* ScoreWatchers::watch(const v1::WatchScoresRequest& request) {
  auto watcher = std::make_shared<Watcher>(
      *this, std::vector<std::string>(request.model_ids().begin(), request.model_ids().end()));
  // Headers at once, before any update can be written: a watcher that got them knows it is registered.
  watcher->StartSendInitialMetadata();
  bool ended = false;
  {
    std::lock_guard lock(mutex_);
    watchers_.emplace(watcher.get(), watcher);
    ended = ended_;
  }
  if (ended) watcher->end(grpc::Status(grpc::StatusCode::UNAVAILABLE, "The scoring service is stopping"));
  return watcher.get();
}

void ScoreWatchers::end_all() {
  for (const std::shared_ptr<Watcher>& watcher : snapshot(/*end=*/true)) watcher->end(grpc::Status::OK);
}

std::size_t ScoreWatchers::watcher_count() const {
  std::lock_guard lock(mutex_);
  return watchers_.size();
}

std::vector<std::shared_ptr<ScoreWatchers::Watcher>> ScoreWatchers::snapshot(bool end) {
  std::lock_guard lock(mutex_);
  if (end) ended_ = true;
  std::vector<std::shared_ptr<Watcher>> watchers;
  watchers.reserve(watchers_.size());
  for (const auto& [key, watcher] : watchers_) watchers.push_back(watcher);
  return watchers;
}

void ScoreWatchers::deliver(std::string_view payload) {
  v1::ScoreUpdate update;
  if (!update.ParseFromArray(payload.data(), static_cast<int>(payload.size()))) {
    spdlog::warn("scoring: a message on the score updates channel is not a ScoreUpdate ({} bytes)",
                 payload.size());
    return;
  }
  for (const std::shared_ptr<Watcher>& watcher : snapshot(/*end=*/false)) watcher->offer(update);
}

std::shared_ptr<ScoreWatchers::Watcher> ScoreWatchers::forget(Watcher* watcher) {
  std::lock_guard lock(mutex_);
  const auto found = watchers_.find(watcher);
  if (found == watchers_.end()) return nullptr;
  std::shared_ptr<Watcher> kept = std::move(found->second);
  watchers_.erase(found);
  all_done_.notify_all();
  return kept;
}

}  // namespace rally::scoring
