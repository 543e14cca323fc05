#include "services/arena/rpc/arena_service.h"

#include <google/protobuf/util/time_util.h>
#include <grpcpp/grpcpp.h>
#include <openssl/rand.h>
#include <spdlog/spdlog.h>

#include <utility>

#include "services/arena/domain/vote_request.h"
#include "services/arena/engine/leaderboard_cache.h"
#include "services/arena/engine/leaderboard_publisher.h"
#include "services/arena/engine/rating_fitter.h"
#include "services/arena/rpc/model_catalog.h"
#include "services/arena/storage/battle_store.h"
#include "services/arena/storage/pg_battle_store.h"
#include "services/arena/storage/pg_vote_store.h"
#include "services/common/blocking_executor.h"
#include "services/common/digest.h"
#include "services/common/grpc_channel.h"
#include "services/common/grpc_status.h"
#include "services/common/redis_client.h"
#include "services/common/request_id.h"
#include "services/common/rpc_observer.h"
#include "services/common/service_main.h"

namespace rally::arena {
namespace {

using common::Error;
using common::ErrorCode;
using google::protobuf::util::TimeUtil;
using std::chrono::system_clock;

constexpr std::string_view kVoteRecorded = "Vote recorded and ratings updated";
constexpr std::size_t kMaxIdempotencyKey = 255;
// Unvoted battles are deleted an hour after they expired, swept after every this many new battles (no
// thread of its own: battles are only created here).
constexpr std::uint64_t kBattlesPerSweep = 256;
constexpr std::chrono::hours kExpiredBattleGrace{1};

google::protobuf::Timestamp to_timestamp(system_clock::time_point time) {
  return TimeUtil::MicrosecondsToTimestamp(
      std::chrono::duration_cast<std::chrono::microseconds>(time.time_since_epoch()).count());
}

grpc::Status busy() {
  return common::to_grpc_status(Error(ErrorCode::kServiceUnavailable,
                                      "The arena is overloaded; retry shortly", {{"reason", "queue_full"}}));
}

std::optional<std::string> voter_hash(const std::string& voter) {
  if (voter.empty()) return std::nullopt;
  return common::sha256_hex(voter);
}

std::optional<VoteOutcome> outcome_of(v1::VoteOutcome outcome) {
  switch (outcome) {
    case v1::VOTE_OUTCOME_MODEL_A:
      return VoteOutcome::kModelA;
    case v1::VOTE_OUTCOME_MODEL_B:
      return VoteOutcome::kModelB;
    case v1::VOTE_OUTCOME_TIE:
      return VoteOutcome::kTie;
    case v1::VOTE_OUTCOME_BOTH_BAD:
      return VoteOutcome::kBothBad;
    default:
      return std::nullopt;
  }
}

v1::VoteOutcome proto_outcome(VoteOutcome outcome) {
  switch (outcome) {
    case VoteOutcome::kModelA:
      return v1::VOTE_OUTCOME_MODEL_A;
    case VoteOutcome::kModelB:
      return v1::VOTE_OUTCOME_MODEL_B;
    case VoteOutcome::kTie:
      return v1::VOTE_OUTCOME_TIE;
    case VoteOutcome::kBothBad:
      return v1::VOTE_OUTCOME_BOTH_BAD;
  }
  return v1::VOTE_OUTCOME_UNSPECIFIED;
}

void set_change(v1::RatingChange& change, const std::string& model, double before, double after) {
  change.set_model(model);
  change.set_rating_before(before);
  change.set_rating_after(after);
}

// The seed's checks for a vote request: `result` (the seed's field) or the outcome enum.
common::Result<ValidVote> validate(const v1::VoteRequest& request, const std::vector<std::string>& known) {
  std::optional<VoteOutcome> outcome = outcome_of(request.outcome());
  if (request.outcome() != v1::VOTE_OUTCOME_UNSPECIFIED && !outcome) {
    return Error(ErrorCode::kInvalidRequest, "Invalid input", {{"field", "outcome"}});
  }
  // With the enum, "draw" stands in for the result so the same name checks apply.
  VoteInput input{request.model_a(), request.model_b(), outcome ? std::string("draw") : request.result()};
  auto valid = validate_vote(input, known);
  if (valid.ok() && outcome) valid->outcome = *outcome;
  return valid;
}

void fill_leaderboard(const LeaderboardView& view, v1::LeaderboardResponse& response) {
  for (const LeaderboardRow& row : view.board.rows) {
    v1::LeaderboardEntry& entry = *response.add_entries();
    entry.set_rank(row.rank);
    entry.set_name(row.name);
    entry.set_score(row.score);
    entry.set_price(row.price);
    entry.set_price_per_score(row.price_per_score);
    entry.set_votes(row.counts.votes);
    entry.set_wins(row.counts.wins);
    entry.set_losses(row.counts.losses);
    entry.set_ties(row.counts.ties);
    entry.set_both_bad(row.counts.both_bad);
    entry.set_bt_rating(row.bt_rating);
    entry.set_ci_lower(row.ci_lower);
    entry.set_ci_upper(row.ci_upper);
    entry.set_rank_ub(row.rank_ub);
  }
  response.set_total_votes(view.total_votes);
  if (view.fit) {
    *response.mutable_bt_computed_at() = to_timestamp(view.fit->computed_at);
    response.set_bt_votes(view.fit->votes);
  }
}

// Unguessable: a battle id is all a client needs to vote on it.
std::string new_battle_id() {
  unsigned char bytes[16];
  if (RAND_bytes(bytes, sizeof bytes) != 1) throw std::runtime_error("RAND_bytes failed");
  return "bt_" + common::hex_digits(bytes, sizeof bytes);
}

std::string_view side_name(v1::BattleSide side) {
  return side == v1::BATTLE_SIDE_A ? "a" : "b";
}

// ---- StreamBattle -----------------------------------------------------------------------------------------

// One side of a battle: the llm-proxy's stream relayed to the caller with the side's identity removed. One
// event is in flight at a time: the next read starts when the previous write finished, so a slow client
// slows the provider instead of growing a buffer. The relay deletes itself in OnDone.
class BattleRelay final : public grpc::ServerWriteReactor<v1::StreamCompleteResponse> {
 public:
  BattleRelay(v1::LlmProxy::Stub& llm_proxy, std::string request_id, std::chrono::milliseconds timeout)
      : llm_proxy_(llm_proxy), request_id_(std::move(request_id)), timeout_(timeout), upstream_(*this) {}

  // From the executor once the battle was read: start the upstream call, or end with `error`.
  void start(const common::Result<StoredBattle>& battle, v1::BattleSide side) {
    std::lock_guard lock(mutex_);
    if (cancelled_) return Finish(grpc::Status(grpc::StatusCode::CANCELLED, "The caller went away"));
    if (!battle.ok()) return Finish(common::to_grpc_status(battle.error()));
    side_ = std::string(side_name(side));
    upstream_.request.set_model(side == v1::BATTLE_SIDE_A ? battle->model_a : battle->model_b);
    v1::ChatMessage* message = upstream_.request.add_messages();
    message->set_role(v1::CHAT_ROLE_USER);
    message->set_content(battle->message);
    // A fallback would answer with another model than the one the vote rates.
    upstream_.request.set_disable_fallbacks(true);
    upstream_.context.AddMetadata(std::string(common::kRequestIdMetadataKey), request_id_);
    upstream_.context.set_deadline(system_clock::now() + timeout_);
    started_ = true;
    llm_proxy_.async()->StreamComplete(&upstream_.context, &upstream_.request, &upstream_);
    // Reads are started from this relay's write callbacks, outside the upstream's reactions: the hold keeps
    // its OnDone back until reading ends.
    upstream_.AddHold();
    upstream_.StartRead(&upstream_.event);
    upstream_.StartCall();
  }

  void OnWriteDone(bool ok) override {
    if (ok) {
      upstream_.StartRead(&upstream_.event);
    } else {
      upstream_.context.TryCancel();
      upstream_.RemoveHold();
    }
  }

  void OnCancel() override {
    std::lock_guard lock(mutex_);
    cancelled_ = true;
    if (started_) upstream_.context.TryCancel();
  }

  void OnDone() override { delete this; }

 private:
  struct Upstream final : grpc::ClientReadReactor<v1::StreamCompleteResponse> {
    explicit Upstream(BattleRelay& owner) : relay(owner) {}

    void OnReadDone(bool ok) override {
      if (!ok) {
        RemoveHold();  // the stream ended; OnDone has the status
        return;
      }
      relay.anonymize(event);
      relay.StartWrite(&event);
    }
    void OnDone(const grpc::Status& status) override { relay.Finish(status); }

    BattleRelay& relay;
    grpc::ClientContext context;
    v1::CompleteRequest request;
    v1::StreamCompleteResponse event;
  };

  void anonymize(v1::StreamCompleteResponse& event) const {
    if (!event.has_end()) return;
    v1::StreamCompleteResponse::End& end = *event.mutable_end();
    end.clear_id();
    end.set_model(side_);
    end.set_served_by(side_);
    end.mutable_usage()->clear_cost_usd();
  }

  v1::LlmProxy::Stub& llm_proxy_;
  const std::string request_id_;
  const std::chrono::milliseconds timeout_;
  std::string side_;
  Upstream upstream_;
  std::mutex mutex_;  // start (executor) against OnCancel (gRPC)
  bool cancelled_ = false;
  bool started_ = false;
};

}  // namespace

ArenaService::ArenaService(ArenaParts parts, ArenaSettings settings)
    : parts_(std::move(parts)),
      settings_(std::move(settings)),
      llm_proxy_(v1::LlmProxy::NewStub(parts_.llm_proxy)),
      random_(std::random_device{}()) {}

template <typename Draw>
auto ArenaService::with_random(Draw draw) {
  std::lock_guard lock(random_mutex_);
  return draw(random_);
}

void ArenaService::vote_stored() {
  parts_.leaderboard.invalidate();
  parts_.fitter.note_vote();
  parts_.publisher.notify();
}

grpc::ServerUnaryReactor* ArenaService::RandomPair(grpc::CallbackServerContext* context,
                                                   const v1::RandomPairRequest*,
                                                   v1::RandomPairResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  parts_.catalog.fetch(common::request_id_of(*context), [this, reactor, response](auto catalog) {
    if (!catalog.ok()) return reactor->Finish(common::to_grpc_status(catalog.error()));
    const auto candidates = pair_candidates(catalog.value(), system_clock::now());
    common::Result<ModelPair> pair =
        with_random([&](std::mt19937_64& random) { return sample_pair(candidates, random); });
    if (!pair.ok()) return reactor->Finish(common::to_grpc_status(pair.error()));
    response->set_model_a(pair->model_a);
    response->set_model_b(pair->model_b);
    reactor->Finish(grpc::Status::OK);
  });
  return reactor;
}

grpc::ServerUnaryReactor* ArenaService::Vote(grpc::CallbackServerContext* context,
                                             const v1::VoteRequest* request, v1::VoteResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  common::Result<ValidVote> vote = validate(*request, parts_.catalog.known_models());
  if (!vote.ok()) {
    reactor->Finish(common::to_grpc_status(vote.error()));
    return reactor;
  }
  if (request->idempotency_key().size() > kMaxIdempotencyKey) {
    reactor->Finish(common::to_grpc_status(Error(ErrorCode::kInvalidRequest,
                                                 "The Idempotency-Key is longer than 255 characters",
                                                 {{"field", "idempotency_key"}})));
    return reactor;
  }
  VoteCommand command{
      vote->model_a,
      vote->model_b,
      vote->outcome,
      std::nullopt,
      voter_hash(request->voter()),
      request->idempotency_key().empty() ? std::nullopt : std::optional(request->idempotency_key())};
  const bool queued = parts_.executor.post([this, reactor, response, command = std::move(command)] {
    common::Result<VoteRecord> record = parts_.votes.record_vote(command, settings_.elo);
    if (!record.ok()) return reactor->Finish(common::to_grpc_status(record.error()));
    if (!record->replayed) vote_stored();
    response->set_message(std::string(kVoteRecorded));
    set_change(*response->mutable_model_a(), command.model_a, record->rating_a_before,
               record->rating_a_after);
    set_change(*response->mutable_model_b(), command.model_b, record->rating_b_before,
               record->rating_b_after);
    response->set_vote_id(record->vote_id);
    response->set_replayed(record->replayed);
    reactor->Finish(grpc::Status::OK);
  });
  if (!queued) reactor->Finish(busy());
  return reactor;
}

grpc::ServerUnaryReactor* ArenaService::Leaderboard(grpc::CallbackServerContext* context,
                                                    const v1::LeaderboardRequest*,
                                                    v1::LeaderboardResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  const bool queued = parts_.executor.post([this, reactor, response] {
    auto view = parts_.leaderboard.current();
    if (!view.ok()) return reactor->Finish(common::to_grpc_status(view.error()));
    fill_leaderboard(*view.value(), *response);
    reactor->Finish(grpc::Status::OK);
  });
  if (!queued) reactor->Finish(busy());
  return reactor;
}

grpc::ServerUnaryReactor* ArenaService::CreateBattle(grpc::CallbackServerContext* context,
                                                     const v1::CreateBattleRequest* request,
                                                     v1::Battle* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  const std::string& message = request->message();
  if (message.find_first_not_of(" \t\r\n") == std::string::npos) {
    reactor->Finish(common::to_grpc_status(
        Error(ErrorCode::kInvalidRequest, "Message is required", {{"field", "message"}})));
    return reactor;
  }
  if (message.size() > settings_.battle_max_message) {
    reactor->Finish(common::to_grpc_status(
        Error(ErrorCode::kInvalidRequest,
              "Message is longer than " + std::to_string(settings_.battle_max_message) + " bytes",
              {{"field", "message"}, {"max_bytes", std::to_string(settings_.battle_max_message)}})));
    return reactor;
  }
  parts_.catalog.fetch(common::request_id_of(*context), [this, reactor, response, message,
                                                         voter = voter_hash(request->voter())](auto catalog) {
    if (!catalog.ok()) return reactor->Finish(common::to_grpc_status(catalog.error()));
    const auto candidates = pair_candidates(catalog.value(), system_clock::now());
    common::Result<ModelPair> pair =
        with_random([&](std::mt19937_64& random) { return sample_pair(candidates, random); });
    if (!pair.ok()) return reactor->Finish(common::to_grpc_status(pair.error()));
    NewBattle battle{new_battle_id(), message, pair->model_a,
                     pair->model_b,   voter,   system_clock::now() + settings_.battle_ttl};
    const bool queued = parts_.executor.post([this, reactor, response, battle = std::move(battle)] {
      common::Result<StoredBattle> stored = parts_.battles.create_battle(battle);
      if (!stored.ok()) return reactor->Finish(common::to_grpc_status(stored.error()));
      response->set_battle_id(stored->battle_id);
      *response->mutable_expires_at() = to_timestamp(stored->expires_at);
      reactor->Finish(grpc::Status::OK);
    });
    if (!queued) reactor->Finish(busy());
  });
  return reactor;
}

grpc::ServerWriteReactor<v1::StreamCompleteResponse>* ArenaService::StreamBattle(
    grpc::CallbackServerContext* context, const v1::StreamBattleRequest* request) {
  auto* relay =
      new BattleRelay(*llm_proxy_, common::request_id_of(*context), settings_.battle_stream_timeout);
  if (request->side() != v1::BATTLE_SIDE_A && request->side() != v1::BATTLE_SIDE_B) {
    relay->Finish(common::to_grpc_status(
        Error(ErrorCode::kInvalidRequest, R"(side must be "a" or "b")", {{"parameter", "side"}})));
    return relay;
  }
  const bool queued = parts_.executor.post([this, relay, id = request->battle_id(), side = request->side()] {
    relay->start(parts_.battles.find_battle(id, system_clock::now()), side);
  });
  if (!queued) relay->Finish(busy());
  return relay;
}

grpc::ServerUnaryReactor* ArenaService::VoteBattle(grpc::CallbackServerContext* context,
                                                   const v1::VoteBattleRequest* request,
                                                   v1::VoteBattleResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  const std::optional<VoteOutcome> outcome = outcome_of(request->outcome());
  if (!outcome) {
    reactor->Finish(common::to_grpc_status(Error(ErrorCode::kInvalidRequest,
                                                 R"(winner must be "a", "b", "tie" or "bothbad")",
                                                 {{"field", "winner"}})));
    return reactor;
  }
  const bool queued = parts_.executor.post([this, reactor, response, id = request->battle_id(), outcome] {
    common::Result<BattleVote> voted =
        parts_.battles.vote_battle(id, *outcome, system_clock::now(), settings_.elo);
    if (!voted.ok()) return reactor->Finish(common::to_grpc_status(voted.error()));
    vote_stored();
    const StoredBattle& battle = voted->battle;
    const VoteRecord& record = voted->vote;
    response->set_battle_id(battle.battle_id);
    response->set_outcome(proto_outcome(*outcome));
    set_change(*response->mutable_model_a(), battle.model_a, record.rating_a_before, record.rating_a_after);
    set_change(*response->mutable_model_b(), battle.model_b, record.rating_b_before, record.rating_b_after);
    reactor->Finish(grpc::Status::OK);
  });
  if (!queued) reactor->Finish(busy());
  return reactor;
}

// ---- Assembly ---------------------------------------------------------------------------------------------

std::unique_ptr<grpc::Service> make_arena_service(common::ServiceContext& context) {
  const ArenaSettings settings = ArenaSettings::from(context.config);
  // Owned in dependency order: ServiceContext destroys the last owned first, so threads that use the
  // stores and the cache stop before those go away.
  PgVoteStore::Settings store_settings;
  store_settings.statement_timeout = settings.statement_timeout;
  VoteStore& votes = context.own(std::make_unique<PgVoteStore>(context.postgres, store_settings));
  BattleStore& battles = context.own(std::make_unique<PgBattleStore>(context.postgres, store_settings));
  auto llm_proxy = common::make_service_channel(settings.llm_proxy);

  LeaderboardCache& leaderboard =
      context.own(std::make_unique<LeaderboardCache>(votes, settings.elo.initial));
  common::RedisClient& redis = context.redis;
  LeaderboardPublisher& publisher = context.own(std::make_unique<LeaderboardPublisher>(
      leaderboard, settings.publish_interval, [&redis](const LeaderboardView& view) {
        v1::LeaderboardResponse message;
        fill_leaderboard(view, message);
        try {
          redis.publish(kLeaderboardChannel, message.SerializeAsString());
        } catch (const common::RedisUnavailable& error) {
          spdlog::warn("arena: leaderboard update not published: {}", error.what());
        }
      }));
  RatingFitter& fitter = context.own(
      std::make_unique<RatingFitter>(votes, leaderboard, settings.fit, [&publisher] { publisher.notify(); }));
  ModelCatalog& catalog = context.own(std::make_unique<ModelCatalog>(
      llm_proxy, settings.catalog_timeout, settings.catalog_refresh, votes, settings.elo.initial,
      [&leaderboard, &publisher](PriceTable prices, bool models_added) {
        const bool prices_changed = leaderboard.set_prices(std::move(prices));
        if (models_added) leaderboard.invalidate();
        if (prices_changed || models_added) publisher.notify();
      }));
  common::BlockingExecutor& executor =
      context.own(std::make_unique<common::BlockingExecutor>(settings.db_threads, settings.db_queue));
  return std::make_unique<ArenaService>(
      ArenaParts{votes, battles, catalog, leaderboard, fitter, publisher, executor, llm_proxy}, settings);
}

}  // namespace rally::arena
