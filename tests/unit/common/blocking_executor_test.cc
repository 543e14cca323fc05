#include "services/common/blocking_executor.h"

#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <future>
#include <set>
#include <thread>

using rally::common::BlockingExecutor;

TEST_CASE("BlockingExecutor runs every posted task, on its own threads") {
  std::atomic<int> ran{0};
  std::mutex ids_mutex;
  std::set<std::thread::id> thread_ids;
  {
    BlockingExecutor executor(2, 1000);
    for (int i = 0; i < 200; ++i) {
      REQUIRE(executor.post([&] {
        ++ran;
        std::lock_guard lock(ids_mutex);
        thread_ids.insert(std::this_thread::get_id());
      }));
    }
  }  // the destructor runs what is queued before joining
  CHECK(ran == 200);
  CHECK_FALSE(thread_ids.count(std::this_thread::get_id()));
  CHECK(thread_ids.size() <= 2);
}

TEST_CASE("BlockingExecutor refuses work beyond its queue bound instead of growing") {
  BlockingExecutor executor(1, 2);
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  std::promise<void> started;
  REQUIRE(executor.post([&started, released] {
    started.set_value();
    released.wait();
  }));
  started.get_future().wait();  // the only thread is busy: later tasks queue
  CHECK(executor.post([] {}));
  CHECK(executor.post([] {}));
  CHECK_FALSE(executor.post([] {}));
  release.set_value();
}

TEST_CASE("BlockingExecutor needs a thread") {
  CHECK_THROWS_AS(BlockingExecutor(0, 1), std::invalid_argument);
}
