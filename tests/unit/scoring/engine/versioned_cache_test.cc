#include "services/scoring/engine/versioned_cache.h"

#include <catch2/catch.hpp>
#include <chrono>
#include <string>
#include <utility>

namespace rally::scoring {
namespace {

using namespace std::chrono_literals;

struct Row {
  std::int64_t updated = 0;
  std::string text;
};

VersionedCache<Row> cache_of(std::chrono::milliseconds ttl) {
  return VersionedCache<Row>(ttl, [](const Row& row) { return row.updated; });
}

const std::chrono::system_clock::time_point kStart{std::chrono::seconds(1'800'000'000)};

TEST_CASE("an entry answers until its time is up", "[scoring][cache]") {
  VersionedCache<Row> cache = cache_of(5s);
  CHECK(cache.find("a", kStart) == nullptr);
  cache.offer("a", {1, "one"}, kStart);
  REQUIRE(cache.find("a", kStart + 4999ms) != nullptr);
  CHECK(cache.find("a", kStart + 4999ms)->text == "one");
  CHECK(cache.find("a", kStart + 5s) == nullptr);
  CHECK(cache.find("b", kStart) == nullptr);
}

TEST_CASE("an older row never replaces a newer live one, but replaces an expired one", "[scoring][cache]") {
  VersionedCache<Row> cache = cache_of(5s);
  cache.offer("a", {2, "written"}, kStart);
  cache.offer("a", {1, "read before the write"}, kStart + 1s);
  CHECK(cache.find("a", kStart + 1s)->text == "written");
  cache.offer("a", {2, "same version again"}, kStart + 2s);
  CHECK(cache.find("a", kStart + 2s)->text == "same version again");
  CHECK(cache.find("a", kStart + 6s) != nullptr);  // the later offer restarted its time
  cache.offer("a", {1, "restored from a backup"}, kStart + 8s);
  CHECK(cache.find("a", kStart + 8s)->text == "restored from a backup");
}

TEST_CASE("a zero ttl keeps nothing", "[scoring][cache]") {
  VersionedCache<Row> cache = cache_of(0ms);
  cache.offer("a", {1, "one"}, kStart);
  CHECK(cache.find("a", kStart) == nullptr);
}

}  // namespace
}  // namespace rally::scoring
