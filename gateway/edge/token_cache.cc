#include "gateway/edge/token_cache.h"

#include <openssl/crypto.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <boost/json.hpp>
#include <cstring>
#include <exception>
#include <utility>
#include <vector>

#include "gateway/edge/token_store.h"
#include "services/common/digest.h"

namespace rally::gateway::edge {
namespace {

namespace json = boost::json;
using SteadyClock = std::chrono::steady_clock;

// Longer than any token rally issues or imports (256), short enough that hashing it costs nothing.
constexpr std::size_t kMaxPresentedToken = 512;

constexpr std::string_view kCreated = "created";
constexpr std::string_view kRevoked = "revoked";

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

// The digest of a stored hex hash; nullopt for anything but 64 lower-case hex digits (the column's CHECK
// admits nothing else).
std::optional<std::array<unsigned char, 32>> digest_of_hex(std::string_view text) {
  std::array<unsigned char, 32> digest{};
  if (text.size() != digest.size() * 2) return std::nullopt;
  for (std::size_t i = 0; i < digest.size(); ++i) {
    const int high = hex_value(text[2 * i]);
    const int low = hex_value(text[2 * i + 1]);
    if (high < 0 || low < 0) return std::nullopt;
    digest[i] = static_cast<unsigned char>(high << 4 | low);
  }
  return digest;
}

}  // namespace

std::string token_event_message(std::string_view op, std::string_view id) {
  return json::serialize(json::object{{"op", op}, {"id", id}});
}

TokenCache::TokenCache(TokenStore& store, const common::RedisSettings& redis, TokenCacheSettings settings)
    : store_(store), settings_(settings), tokens_(std::make_shared<const Tokens>()) {
  publisher_ = std::make_unique<common::RedisClient>(redis);
  subscriber_ = std::make_unique<common::RedisSubscriber>(
      redis, std::vector<std::string>{std::string(kTokenEventsChannel)}, false,
      [this](std::string_view, std::string_view message) { on_event(message); });
  thread_ = std::thread([this] { run(); });
}

TokenCache::~TokenCache() {
  {
    std::lock_guard lock(wake_mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  thread_.join();
  subscriber_.reset();  // its handler uses this object
  flush_last_used();
}

std::uint64_t TokenCache::bucket_of(const Digest& digest) {
  std::uint64_t bucket = 0;
  std::memcpy(&bucket, digest.data(), sizeof bucket);
  return bucket;
}

std::shared_ptr<const TokenCache::Tokens> TokenCache::current() const {
  std::lock_guard lock(state_mutex_);
  return tokens_;
}

std::optional<Principal> TokenCache::authenticate(std::string_view raw_token) const {
  if (raw_token.empty() || raw_token.size() > kMaxPresentedToken) return std::nullopt;
  const Digest digest = common::sha256(raw_token);
  const std::shared_ptr<const Tokens> tokens = current();
  // The bucket is found by an integer; the whole digest is compared in constant time, so the time taken
  // says nothing about how much of a guess matched.
  const auto [first, last] = tokens->equal_range(bucket_of(digest));
  for (auto it = first; it != last; ++it) {
    if (CRYPTO_memcmp(it->second.hash.data(), digest.data(), digest.size()) == 0) {
      const Principal& principal = it->second.principal;
      {
        std::lock_guard lock(uses_mutex_);
        uses_[principal.token_id] = std::chrono::system_clock::now();
      }
      return principal;
    }
  }
  return std::nullopt;
}

std::size_t TokenCache::size() const {
  return current()->size();
}

bool TokenCache::subscribed() const {
  return subscriber_->connected();
}

bool TokenCache::reload() {
  std::lock_guard load_lock(load_mutex_);
  common::Result<std::vector<ActiveToken>> active = store_.load_active();
  if (!active.ok()) {
    // Logged when the outage starts; the retries while it lasts go to debug.
    spdlog::log(load_failing_ ? spdlog::level::debug : spdlog::level::warn,
                "API tokens {} ({}); trying again", loaded() ? "not refreshed" : "not loaded yet",
                active.error().message);
    load_failing_ = true;
    return false;
  }

  auto tokens = std::make_shared<Tokens>();
  tokens->reserve(active->size());
  for (ActiveToken& token : active.value()) {
    const auto digest = digest_of_hex(token.token_hash);
    if (!digest) {
      spdlog::error("API token {} has a malformed hash in the store; it is ignored", token.id);
      continue;
    }
    Entry entry{*digest, Principal{std::move(token.id), std::move(token.name), token.scope,
                                   std::move(token.rate_limits)}};
    tokens->emplace(bucket_of(*digest), std::move(entry));
  }
  std::size_t count = 0;
  {
    std::lock_guard lock(state_mutex_);
    // Revocations announced while the query ran (or before) win over what it read.
    std::erase_if(*tokens,
                  [this](const auto& item) { return revoked_ids_.contains(item.second.principal.token_id); });
    count = tokens->size();
    tokens_ = std::move(tokens);
  }
  if (load_failing_ || !loaded()) {
    spdlog::info("API tokens loaded: {} active", count);
  }
  load_failing_ = false;
  loaded_.store(true, std::memory_order_release);
  return true;
}

void TokenCache::forget(const std::string& id) {
  std::lock_guard lock(state_mutex_);
  revoked_ids_.insert(id);
  const bool present = std::any_of(tokens_->begin(), tokens_->end(),
                                   [&](const auto& item) { return item.second.principal.token_id == id; });
  if (!present) return;
  auto remaining = std::make_shared<Tokens>(*tokens_);
  std::erase_if(*remaining, [&](const auto& item) { return item.second.principal.token_id == id; });
  tokens_ = std::move(remaining);
}

void TokenCache::created(std::string_view id) {
  if (!reload()) request_reload();  // the background thread keeps trying every `retry`
  try {
    publisher_->publish(kTokenEventsChannel, token_event_message(kCreated, id));
  } catch (const std::exception& e) {
    spdlog::warn("could not announce API token {} to other gateways ({}); they load it within {}ms", id,
                 e.what(), settings_.refresh.count());
  }
}

void TokenCache::revoked(std::string_view id) {
  forget(std::string(id));
  try {
    publisher_->publish(kTokenEventsChannel, token_event_message(kRevoked, id));
  } catch (const std::exception& e) {
    spdlog::warn(
        "could not announce the revocation of API token {} to other gateways ({}); they drop it "
        "within {}ms",
        id, e.what(), settings_.refresh.count());
  }
}

void TokenCache::on_event(std::string_view message) {
  boost::system::error_code ec;
  const json::value event = json::parse(message, ec);
  const json::object* object = ec ? nullptr : event.if_object();
  const json::value* op = object == nullptr ? nullptr : object->if_contains("op");
  const json::value* id = object == nullptr ? nullptr : object->if_contains("id");
  if (op != nullptr && id != nullptr && op->is_string() && id->is_string() && op->get_string() == kRevoked) {
    forget(std::string(id->get_string()));
    return;
  }
  // A creation, or a message this version does not know: reloading is always correct.
  request_reload();
}

void TokenCache::request_reload() {
  {
    std::lock_guard lock(wake_mutex_);
    reload_requested_ = true;
  }
  wake_.notify_all();
}

void TokenCache::flush_last_used() {
  std::map<std::string, std::chrono::system_clock::time_point> batch;
  {
    std::lock_guard lock(uses_mutex_);
    batch.swap(uses_);
  }
  if (batch.empty()) return;
  if (store_.touch_last_used(batch).ok()) return;
  // Kept for the next flush, unless a newer use was recorded meanwhile.
  std::lock_guard lock(uses_mutex_);
  for (auto& [id, used_at] : batch) {
    auto [it, inserted] = uses_.emplace(id, used_at);
    if (!inserted && it->second < used_at) it->second = used_at;
  }
}

void TokenCache::run() {
  auto next_load = SteadyClock::now();
  auto next_flush = next_load + settings_.last_used_flush;
  bool was_subscribed = false;
  std::unique_lock lock(wake_mutex_);
  while (!stopping_) {
    const bool requested = std::exchange(reload_requested_, false);
    lock.unlock();

    // Changes announced while the subscription was down were missed.
    const bool subscribed = subscriber_->connected();
    const bool resubscribed = subscribed && !was_subscribed;
    was_subscribed = subscribed;

    auto now = SteadyClock::now();
    if (requested || resubscribed || now >= next_load) {
      next_load = SteadyClock::now() + (reload() ? settings_.refresh : settings_.retry);
    }
    now = SteadyClock::now();
    if (now >= next_flush) {
      flush_last_used();
      next_flush = now + settings_.last_used_flush;
    }

    lock.lock();
    const auto wake_at = std::min({next_load, next_flush, SteadyClock::now() + settings_.retry});
    wake_.wait_until(lock, wake_at, [this] { return stopping_ || reload_requested_; });
  }
}

}  // namespace rally::gateway::edge
