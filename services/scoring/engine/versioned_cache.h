// A copy in memory of rows the scoring service reads on every request (configurations, current scores), so
// that a request can be answered without PostgreSQL. An entry answers for `ttl` after it was offered, then
// the caller reads the row again. Offers carry the row's version (its update time): an older row never
// replaces a newer one, so a read that raced a write cannot bring back what the write replaced. Thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>

namespace rally::scoring {

template <typename Value>
class VersionedCache {
 public:
  using TimePoint = std::chrono::system_clock::time_point;
  using Version = std::function<std::int64_t(const Value&)>;

  // A ttl of zero keeps nothing.
  VersionedCache(std::chrono::milliseconds ttl, Version version) : ttl_(ttl), version_(std::move(version)) {}

  // The entry for `key` while it answers at `now`, else nullptr.
  std::shared_ptr<const Value> find(std::string_view key, TimePoint now) const {
    if (ttl_ <= std::chrono::milliseconds::zero()) return nullptr;
    const std::lock_guard lock(mutex_);
    const auto entry = entries_.find(key);
    if (entry == entries_.end() || now >= entry->second.expires) return nullptr;
    return entry->second.value;
  }

  // Keeps `value` for `key` unless a live entry holds a newer version.
  void offer(std::string_view key, Value value, TimePoint now) {
    if (ttl_ <= std::chrono::milliseconds::zero()) return;
    auto shared = std::make_shared<const Value>(std::move(value));
    const std::int64_t version = version_(*shared);
    const std::lock_guard lock(mutex_);
    auto entry = entries_.find(key);
    if (entry == entries_.end()) {
      entries_.emplace(std::string(key), Entry{std::move(shared), version, now + ttl_});
      return;
    }
    if (now < entry->second.expires && entry->second.version > version) return;
    entry->second = Entry{std::move(shared), version, now + ttl_};
  }

 private:
  struct Entry {
    std::shared_ptr<const Value> value;
    std::int64_t version = 0;
    TimePoint expires;
  };

  const std::chrono::milliseconds ttl_;
  const Version version_;
  mutable std::mutex mutex_;
  std::map<std::string, Entry, std::less<>> entries_;
};

}  // namespace rally::scoring
