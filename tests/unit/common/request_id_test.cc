#include "services/common/request_id.h"

#include <catch2/catch.hpp>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace rally::common {
namespace {

TEST_CASE("new request ids are req_ and 24 lowercase hex digits", "[request_id]") {
  for (int i = 0; i < 100; ++i) {
    const std::string id = new_request_id();
    INFO(id);
    REQUIRE(id.size() == 28);
    CHECK(id.starts_with("req_"));
    CHECK(id.find_first_not_of("0123456789abcdef", 4) == std::string::npos);
    CHECK(is_valid_request_id(id));
  }
}

TEST_CASE("new request ids do not repeat, within a thread or across threads", "[request_id]") {
  // Every thread has its own engine; equal seeds would show up here as identical sequences.
  constexpr int kThreads = 4;
  constexpr int kPerThread = 2000;
  std::mutex mutex;
  std::set<std::string> ids;
  std::vector<std::thread> threads;
  threads.reserve(kThreads);
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      std::vector<std::string> mine;
      mine.reserve(kPerThread);
      for (int i = 0; i < kPerThread; ++i) {
        mine.push_back(new_request_id());
      }
      const std::lock_guard lock(mutex);
      ids.insert(mine.begin(), mine.end());
    });
  }
  for (auto& thread : threads) {
    thread.join();
  }
  CHECK(ids.size() == std::size_t{kThreads} * kPerThread);
}

TEST_CASE("the random part uses every hex digit in every position", "[request_id]") {
  // A generator that left high bits or a digit position unused would fail this in practice.
  std::vector<std::set<char>> seen(24);
  for (int i = 0; i < 2000; ++i) {
    const std::string id = new_request_id();
    for (std::size_t p = 0; p < 24; ++p) {
      seen[p].insert(id[4 + p]);
    }
  }
  for (std::size_t p = 0; p < 24; ++p) {
    INFO("position " << p);
    CHECK(seen[p].size() == 16);
  }
}

TEST_CASE("client-supplied request ids are accepted only when safe to echo", "[request_id]") {
  CHECK(is_valid_request_id("a"));
  CHECK(is_valid_request_id("req_0123456789abcdef01234567"));
  CHECK(is_valid_request_id("Trace-ID.42:span_7"));
  CHECK(is_valid_request_id(std::string(128, 'x')));

  CHECK_FALSE(is_valid_request_id(""));
  CHECK_FALSE(is_valid_request_id(std::string(129, 'x')));
  CHECK_FALSE(is_valid_request_id("has space"));
  CHECK_FALSE(is_valid_request_id("quote\""));
  CHECK_FALSE(is_valid_request_id("new\nline"));
  CHECK_FALSE(is_valid_request_id("header\r\nInjected: 1"));
  CHECK_FALSE(is_valid_request_id("slash/path"));
  CHECK_FALSE(is_valid_request_id("caf\xc3\xa9"));
  CHECK_FALSE(is_valid_request_id(std::string_view("nul\0byte", 8)));
}

}  // namespace
}  // namespace rally::common
