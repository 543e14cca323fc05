// PgUsageStore against real PostgreSQL: a scratch database built from the llm-proxy migrations for what is
// written and read back, a closed port and a cluster of the test's own for outages.
#include "services/llm-proxy/storage/pg_usage_store.h"

#include <catch2/catch.hpp>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <memory>
#include <optional>
#include <pqxx/connection>
#include <pqxx/nontransaction>
#include <pqxx/result>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "migrations/rally_llm_proxy.h"
#include "services/common/metrics.h"
#include "services/common/migrations.h"
#include "services/common/pg_pool.h"
#include "tests/support/servers.h"
#include "tests/support/test_env.h"

namespace {

using rally::common::ErrorCode;
using rally::common::PgPool;
using rally::common::PostgresSettings;
using rally::llm_proxy::ModelUsageStats;
using rally::llm_proxy::PgUsageStore;
using rally::llm_proxy::UsageOutcome;
using rally::llm_proxy::UsageRecord;
using rally::testing::ScratchDatabase;
using std::chrono::microseconds;
using std::chrono::milliseconds;
using TimePoint = std::chrono::system_clock::time_point;
using namespace std::string_literals;

// A whole number of microseconds, as PostgreSQL keeps timestamps.
const TimePoint kNoon{microseconds(1'795'000'000'123'456)};

PostgresSettings pool_settings(std::string url) {
  PostgresSettings settings;
  settings.url = std::move(url);
  settings.pool_size = 4;
  settings.connect_timeout = milliseconds(1000);
  settings.acquire_timeout = milliseconds(500);
  return settings;
}

// Quick batches and retries, so tests need not wait for the production intervals.
PgUsageStore::Settings quick_settings() {
  PgUsageStore::Settings settings;
  settings.flush_interval = milliseconds(20);
  settings.write_attempts = 3;
  settings.retry_backoff = milliseconds(10);
  settings.max_retry_backoff = milliseconds(40);
  return settings;
}

void migrate(const std::string& url) {
  pqxx::connection connection(url);
  rally::common::apply_migrations(connection, "llm-proxy", rally::llm_proxy::migrations());
}

// A scratch database with the llm-proxy schema and a pool on it.
struct MigratedDatabase {
  MigratedDatabase() { migrate(database.url()); }

  std::int64_t count(const std::string& where = "true") {
    pqxx::connection connection(database.url());
    pqxx::nontransaction tx(connection);
    return tx.exec1("SELECT count(*) FROM llm_proxy.usage_records WHERE " + where)[0].as<std::int64_t>();
  }

  ScratchDatabase database;
  PgPool pool{pool_settings(database.url())};
};

UsageRecord ok_record(std::string request_id, std::string model = "gpt-4o") {
  UsageRecord record;
  record.request_id = std::move(request_id);
  record.caller = "arena";
  record.model = model;
  record.served_by = std::move(model);
  record.provider = "openai";
  record.streamed = true;
  record.outcome = UsageOutcome::kOk;
  record.prompt_tokens = 12;
  record.completion_tokens = 34;
  record.cost_usd = 0.0025;
  record.time_to_first_token = milliseconds(150);
  record.total_duration = milliseconds(900);
  record.tokens_per_second = 45.5;
  record.attempts = 1;
  record.started_at = kNoon;
  return record;
}

// Every stored row as a UsageRecord, in insertion order: the inverse of what the store writes.
std::vector<UsageRecord> stored_records(const std::string& url) {
  pqxx::connection connection(url);
  pqxx::nontransaction tx(connection);
  const pqxx::result rows = tx.exec(
      "SELECT request_id, caller, model, coalesce(served_by, ''), provider, streamed, simulated, outcome, "
      "coalesce(error_kind, ''), coalesce(error_message, ''), prompt_tokens, completion_tokens, "
      "usage_estimated, cost_usd, time_to_first_token_us, total_duration_us, tokens_per_second, attempts, "
      "(extract(epoch FROM started_at) * 1000000)::bigint, prompt_text "
      "FROM llm_proxy.usage_records ORDER BY id");
  std::vector<UsageRecord> records;
  for (const pqxx::row& row : rows) {
    UsageRecord record;
    record.request_id = row[0].as<std::string>();
    record.caller = row[1].as<std::string>();
    record.model = row[2].as<std::string>();
    record.served_by = row[3].as<std::string>();
    record.provider = row[4].as<std::string>();
    record.streamed = row[5].as<bool>();
    record.simulated = row[6].as<bool>();
    const std::string outcome = row[7].as<std::string>();
    record.outcome = outcome == "ok"      ? UsageOutcome::kOk
                     : outcome == "error" ? UsageOutcome::kError
                                          : UsageOutcome::kCancelled;
    record.error_kind = row[8].as<std::string>();
    record.error_message = row[9].as<std::string>();
    record.prompt_tokens = row[10].as<std::uint32_t>();
    record.completion_tokens = row[11].as<std::uint32_t>();
    record.usage_estimated = row[12].as<bool>();
    record.cost_usd = row[13].as<double>();
    if (!row[14].is_null()) {
      record.time_to_first_token = microseconds(row[14].as<std::int64_t>());
    }
    record.total_duration = microseconds(row[15].as<std::int64_t>());
    if (!row[16].is_null()) {
      record.tokens_per_second = row[16].as<double>();
    }
    record.attempts = row[17].as<std::uint32_t>();
    record.started_at = TimePoint(microseconds(row[18].as<std::int64_t>()));
    if (!row[19].is_null()) {
      record.prompt_text = row[19].as<std::string>();
    }
    records.push_back(std::move(record));
  }
  return records;
}

double dropped_metric(const std::string& reason) {
  return rally::common::metrics::Registry::global()
      .counter("rally_llm_proxy_usage_records_dropped_total", "", {"reason"})
      .labels({reason})
      .value();
}

}  // namespace

TEST_CASE("the llm-proxy migrations create the usage table and its indexes", "[usage_store]") {
  ScratchDatabase database;
  pqxx::connection connection(database.url());
  const auto report =
      rally::common::apply_migrations(connection, "llm-proxy", rally::llm_proxy::migrations());
  CHECK(report.current_version >= 2);

  pqxx::nontransaction tx(connection);
  for (const char* relation : {"llm_proxy.usage_records", "llm_proxy.usage_records_model_started_at",
                               "llm_proxy.usage_records_started_at"}) {
    INFO(relation);
    CHECK_FALSE(tx.exec_params1("SELECT to_regclass($1)", relation)[0].is_null());
  }
  // Anything but the three outcomes is refused by the table itself.
  CHECK_THROWS_AS(
      tx.exec("INSERT INTO llm_proxy.usage_records (request_id, caller, model, provider, streamed, "
              "simulated, outcome, prompt_tokens, completion_tokens, usage_estimated, cost_usd, "
              "total_duration_us, attempts, started_at) VALUES ('r', 'c', 'm', 'p', false, false, "
              "'maybe', 0, 0, false, 0, 0, 0, now())"),
      pqxx::check_violation);
}

TEST_CASE("PgUsageStore writes every field and reads back what it wrote", "[usage_store]") {
  MigratedDatabase db;

  UsageRecord streamed = ok_record("req-1");
  streamed.simulated = true;
  streamed.usage_estimated = true;
  streamed.attempts = 3;
  streamed.cost_usd = 0.1 + 0.2;  // not exactly 0.3: the stored double must be the same double

  UsageRecord failed;  // everything optional left out
  failed.request_id = "req-2";
  failed.caller = "critique";
  failed.model = "claude-sonnet";
  failed.provider = "anthropic";
  failed.outcome = UsageOutcome::kError;
  failed.error_kind = "rate_limited";
  failed.error_message = "429 Too Many Requests";
  failed.total_duration = microseconds(1'234'567);
  failed.attempts = 4'000'000'000;  // uint32 values beyond int32 fit
  failed.started_at = kNoon + microseconds(1);

  UsageRecord cancelled = ok_record("req-3", "llama-3");
  cancelled.outcome = UsageOutcome::kCancelled;
  cancelled.provider = "openai-compatible";
  cancelled.served_by.clear();

  {
    PgUsageStore store(db.pool, quick_settings());
    store.record(streamed);
    store.record(failed);
    store.record(cancelled);
    store.flush();
    const PgUsageStore::Counters counters = store.counters();
    CHECK(counters.accepted == 3);
    CHECK(counters.written == 3);
    CHECK(counters.pending == 0);
    CHECK(counters.failed_batches == 0);
  }

  CHECK(stored_records(db.database.url()) == std::vector<UsageRecord>{streamed, failed, cancelled});
  // Absent values are NULL in the table, not empty strings.
  CHECK(db.count("served_by IS NULL") == 2);
  CHECK(db.count("error_kind IS NULL AND error_message IS NULL") == 2);
  CHECK(db.count("time_to_first_token_us IS NULL AND tokens_per_second IS NULL") == 1);
}

TEST_CASE("PgUsageStore keeps the prompt text only when the record carries it", "[usage_store]") {
  MigratedDatabase db;
  UsageRecord with_prompt = ok_record("with-prompt");
  with_prompt.prompt_text = "Explain ELO ratings in one sentence.";
  UsageRecord empty_prompt = ok_record("empty-prompt");
  empty_prompt.prompt_text = "";
  {
    PgUsageStore store(db.pool, quick_settings());
    store.record(ok_record("without-prompt"));
    store.record(with_prompt);
    store.record(empty_prompt);
    store.flush();
  }
  const std::vector<UsageRecord> stored = stored_records(db.database.url());
  REQUIRE(stored.size() == 3);
  CHECK_FALSE(stored[0].prompt_text.has_value());
  CHECK(stored[1].prompt_text == "Explain ELO ratings in one sentence.");
  CHECK(stored[2].prompt_text == "");
  CHECK(db.count("prompt_text IS NULL") == 1);
}

TEST_CASE("PgUsageStore stores text PostgreSQL would refuse with the bad bytes replaced", "[usage_store]") {
  MigratedDatabase db;
  UsageRecord record = ok_record("odd-bytes");
  record.outcome = UsageOutcome::kError;
  record.error_kind = "upstream_error";
  record.error_message = "bad \xC3 byte and a NUL: \0 end"s;
  record.prompt_text = "a\0b"s;
  {
    PgUsageStore store(db.pool, quick_settings());
    store.record(record);
    store.flush();
    CHECK(store.counters().written == 1);
  }
  const std::vector<UsageRecord> stored = stored_records(db.database.url());
  REQUIRE(stored.size() == 1);
  CHECK(stored[0].error_message == "bad \xEF\xBF\xBD byte and a NUL: \xEF\xBF\xBD end");
  CHECK(stored[0].prompt_text ==
        "a\xEF\xBF\xBD"
        "b");
}

TEST_CASE("PgUsageStore computes per-model statistics over a window", "[usage_store]") {
  MigratedDatabase db;
  const TimePoint from = kNoon;
  const TimePoint to = kNoon + std::chrono::hours(1);

  std::vector<UsageRecord> records;
  const auto add = [&](UsageRecord record) {
    record.request_id = "req-" + std::to_string(records.size());
    records.push_back(std::move(record));
  };
  // alpha: four streamed successes (TTFT 100-400 ms, 10-40 tokens/s), one whole-answer success whose TTFT
  // must not count, one error and one cancellation.
  for (int i = 1; i <= 4; ++i) {
    UsageRecord record = ok_record("", "alpha");
    record.time_to_first_token = milliseconds(100 * i);
    record.tokens_per_second = 10.0 * i;
    record.prompt_tokens = 10;
    record.completion_tokens = 100;
    record.cost_usd = 0.25;
    record.started_at = from + std::chrono::minutes(i);
    add(record);
  }
  UsageRecord whole = ok_record("", "alpha");
  whole.streamed = false;
  whole.time_to_first_token = milliseconds(5000);
  whole.tokens_per_second = 50.0;
  whole.prompt_tokens = 10;
  whole.completion_tokens = 100;
  whole.cost_usd = 0.25;
  whole.started_at = from;  // the window includes its start
  add(whole);
  UsageRecord error = ok_record("", "alpha");
  error.outcome = UsageOutcome::kError;
  error.error_kind = "timeout";
  error.time_to_first_token = milliseconds(9000);
  error.tokens_per_second = 1.0;
  error.prompt_tokens = 10;
  error.completion_tokens = 5;
  error.cost_usd = 0.125;
  add(error);
  UsageRecord cancelled = ok_record("", "alpha");
  cancelled.outcome = UsageOutcome::kCancelled;
  cancelled.time_to_first_token = milliseconds(7000);
  cancelled.tokens_per_second = 2.0;
  cancelled.prompt_tokens = 10;
  cancelled.completion_tokens = 0;
  cancelled.cost_usd = 0.0;
  add(cancelled);
  // beta: only a cancellation, so no error rate to speak of and no percentiles.
  UsageRecord beta = ok_record("", "beta");
  beta.outcome = UsageOutcome::kCancelled;
  beta.prompt_tokens = 7;
  beta.completion_tokens = 0;
  beta.cost_usd = 0.5;
  add(beta);
  // Gamma: one record in the window; the rest just outside it at either end. Its capital sorts first.
  UsageRecord gamma = ok_record("", "Gamma");
  gamma.started_at = to - microseconds(1);
  gamma.time_to_first_token = milliseconds(42);
  gamma.tokens_per_second = 3.5;
  gamma.prompt_tokens = 1;
  gamma.completion_tokens = 2;
  gamma.cost_usd = 0.5;
  add(gamma);
  for (const TimePoint outside : {from - microseconds(1), to}) {
    UsageRecord late = gamma;
    late.started_at = outside;
    late.outcome = UsageOutcome::kError;
    add(late);
  }

  PgUsageStore store(db.pool, quick_settings());
  for (const UsageRecord& record : records) {
    store.record(record);
  }
  store.flush();
  REQUIRE(store.counters().written == records.size());

  ModelUsageStats expected_gamma;
  expected_gamma.model = "Gamma";
  expected_gamma.requests = 1;
  expected_gamma.p50_time_to_first_token = milliseconds(42);
  expected_gamma.p99_time_to_first_token = milliseconds(42);
  expected_gamma.p50_tokens_per_second = 3.5;
  expected_gamma.prompt_tokens = 1;
  expected_gamma.completion_tokens = 2;
  expected_gamma.cost_usd = 0.5;

  ModelUsageStats expected_alpha;
  expected_alpha.model = "alpha";
  expected_alpha.requests = 7;
  expected_alpha.errors = 1;
  expected_alpha.cancelled = 1;
  expected_alpha.error_rate = 1.0 / 6.0;
  // percentile_cont over 100, 200, 300, 400 ms: the median halfway between 200 and 300; the 99th at
  // position 0.99 * 3 = 2.97, i.e. 300 + 0.97 * 100 ms.
  expected_alpha.p50_time_to_first_token = milliseconds(250);
  expected_alpha.p99_time_to_first_token = microseconds(397'000);
  expected_alpha.p50_tokens_per_second = 30.0;  // of 10, 20, 30, 40, 50
  expected_alpha.prompt_tokens = 70;
  expected_alpha.completion_tokens = 505;
  expected_alpha.cost_usd = 1.375;

  ModelUsageStats expected_beta;
  expected_beta.model = "beta";
  expected_beta.requests = 1;
  expected_beta.cancelled = 1;
  expected_beta.prompt_tokens = 7;
  expected_beta.cost_usd = 0.5;

  SECTION("every model, ordered by name") {
    const auto stats = store.stats({}, from, to);
    REQUIRE(stats.ok());
    REQUIRE(stats->size() == 3);
    CHECK(stats.value()[0] == expected_gamma);
    // Sums and interpolated percentiles are doubles: compare those approximately, the rest exactly.
    const ModelUsageStats& alpha = stats.value()[1];
    CHECK(alpha.model == "alpha");
    CHECK(alpha.requests == expected_alpha.requests);
    CHECK(alpha.errors == expected_alpha.errors);
    CHECK(alpha.cancelled == expected_alpha.cancelled);
    CHECK(alpha.error_rate == Approx(expected_alpha.error_rate));
    CHECK(alpha.p50_time_to_first_token == expected_alpha.p50_time_to_first_token);
    CHECK(alpha.p99_time_to_first_token == expected_alpha.p99_time_to_first_token);
    REQUIRE(alpha.p50_tokens_per_second.has_value());
    CHECK(*alpha.p50_tokens_per_second == Approx(30.0));
    CHECK(alpha.prompt_tokens == expected_alpha.prompt_tokens);
    CHECK(alpha.completion_tokens == expected_alpha.completion_tokens);
    CHECK(alpha.cost_usd == Approx(expected_alpha.cost_usd));
    CHECK(stats.value()[2] == expected_beta);
  }

  SECTION("only the models asked for; unknown ones are absent") {
    const auto stats = store.stats({"beta", "no-such-model", "Gamma"}, from, to);
    REQUIRE(stats.ok());
    CHECK(stats.value() == std::vector<ModelUsageStats>{expected_gamma, expected_beta});
  }

  SECTION("the window includes its start and excludes its end") {
    const auto before = store.stats({"Gamma"}, from - microseconds(1), from);
    REQUIRE(before.ok());
    REQUIRE(before->size() == 1);
    CHECK(before.value()[0].requests == 1);
    CHECK(before.value()[0].errors == 1);

    const auto at_end = store.stats({"Gamma"}, to, to + microseconds(1));
    REQUIRE(at_end.ok());
    REQUIRE(at_end->size() == 1);
    CHECK(at_end.value()[0].errors == 1);

    const auto all_of_gamma = store.stats({"Gamma"}, from - microseconds(1), to + microseconds(1));
    REQUIRE(all_of_gamma.ok());
    REQUIRE(all_of_gamma->size() == 1);
    CHECK(all_of_gamma.value()[0].requests == 3);
    CHECK(all_of_gamma.value()[0].error_rate == Approx(2.0 / 3.0));
  }

  SECTION("an empty window has no models, a reversed one is refused") {
    const auto empty = store.stats({}, to + std::chrono::hours(1), to + std::chrono::hours(2));
    REQUIRE(empty.ok());
    CHECK(empty->empty());

    const auto reversed = store.stats({}, to, from);
    REQUIRE_FALSE(reversed.ok());
    CHECK(reversed.error().code == ErrorCode::kInvalidRequest);
  }
}

TEST_CASE("records from many threads are each written exactly once", "[usage_store]") {
  MigratedDatabase db;
  constexpr int kThreads = 8;
  constexpr int kPerThread = 500;
  PgUsageStore::Settings settings = quick_settings();
  settings.batch_size = 50;
  PgUsageStore store(db.pool, settings);

  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&store, t] {
      for (int i = 0; i < kPerThread; ++i) {
        store.record(ok_record("t" + std::to_string(t) + "-" + std::to_string(i)));
      }
    });
  }
  for (std::thread& thread : threads) {
    thread.join();
  }
  store.flush();

  const PgUsageStore::Counters counters = store.counters();
  CHECK(counters.accepted == kThreads * kPerThread);
  CHECK(counters.written == kThreads * kPerThread);
  CHECK(counters.dropped_queue_full == 0);
  CHECK(counters.pending == 0);

  pqxx::connection connection(db.database.url());
  pqxx::nontransaction tx(connection);
  const pqxx::row totals =
      tx.exec1("SELECT count(*), count(DISTINCT request_id) FROM llm_proxy.usage_records");
  CHECK(totals[0].as<int>() == kThreads * kPerThread);
  CHECK(totals[1].as<int>() == kThreads * kPerThread);
}

TEST_CASE("record() drops and counts what does not fit while PostgreSQL is unreachable", "[usage_store]") {
  // Nothing listens on a port that was just free.
  PgPool pool(pool_settings("postgresql://rally@127.0.0.1:" + std::to_string(rally::testing::free_port()) +
                            "/rally"));
  PgUsageStore::Settings settings = quick_settings();
  settings.max_queue_records = 10;
  settings.batch_size = 4;
  // After its first failed attempt the writer waits far longer than the test runs, so nothing is resolved
  // while records arrive: exactly max_queue_records are accepted whatever the scheduling.
  settings.write_attempts = 100;
  settings.retry_backoff = std::chrono::minutes(10);
  settings.max_retry_backoff = std::chrono::minutes(10);
  settings.shutdown_timeout = milliseconds(0);

  const double queue_full_before = dropped_metric("queue_full");
  const double shutdown_before = dropped_metric("shutdown");
  {
    PgUsageStore store(pool, settings);
    for (int i = 0; i < 50; ++i) {
      store.record(ok_record("r" + std::to_string(i)));
    }
    const PgUsageStore::Counters counters = store.counters();
    CHECK(counters.accepted == 10);
    CHECK(counters.dropped_queue_full == 40);
    CHECK(counters.pending == 10);
    CHECK(counters.written == 0);
    CHECK(dropped_metric("queue_full") - queue_full_before == 40);
  }
  // The destructor ended the retry wait and counted the records it could not write.
  CHECK(dropped_metric("shutdown") - shutdown_before == 10);
}

TEST_CASE("PgUsageStore gives a batch up after its attempts and writes again once PostgreSQL is back",
          "[usage_store][restart]") {
  rally::testing::PostgresCluster server(rally::testing::free_port());
  migrate(server.url());
  PgPool pool(pool_settings(server.url()));
  PgUsageStore store(pool, quick_settings());

  store.record(ok_record("before"));
  store.flush();
  REQUIRE(store.counters().written == 1);

  server.stop();
  for (int i = 0; i < 5; ++i) {
    store.record(ok_record("during-" + std::to_string(i)));
  }
  store.flush();  // returns after write_attempts tries: the outage costs records, not a hang
  PgUsageStore::Counters counters = store.counters();
  CHECK(counters.written == 1);
  CHECK(counters.dropped_write_failed == 5);
  CHECK(counters.failed_batches >= 1);
  CHECK(counters.pending == 0);

  server.start();
  for (int i = 0; i < 3; ++i) {
    store.record(ok_record("after-" + std::to_string(i)));
  }
  store.flush();
  counters = store.counters();
  CHECK(counters.written == 4);
  CHECK(counters.dropped_write_failed == 5);

  std::set<std::string> ids;
  for (const UsageRecord& record : stored_records(server.url())) {
    ids.insert(record.request_id);
  }
  CHECK(ids == std::set<std::string>{"before", "after-0", "after-1", "after-2"});
}

TEST_CASE("a record PostgreSQL rejects costs only itself, not its batch", "[usage_store]") {
  MigratedDatabase db;
  {
    pqxx::connection connection(db.database.url());
    pqxx::nontransaction tx(connection);
    tx.exec("ALTER TABLE llm_proxy.usage_records ADD CONSTRAINT no_poison CHECK (caller <> 'poison')");
  }
  PgUsageStore::Settings settings = quick_settings();
  settings.flush_interval = std::chrono::hours(1);  // one batch, written by flush()
  PgUsageStore store(db.pool, settings);
  for (int i = 0; i < 5; ++i) {
    UsageRecord record = ok_record("r" + std::to_string(i));
    if (i == 2) {
      record.caller = "poison";
    }
    store.record(record);
  }
  store.flush();

  const PgUsageStore::Counters counters = store.counters();
  CHECK(counters.written == 4);
  CHECK(counters.dropped_write_failed == 1);
  CHECK(counters.failed_batches == 1);
  CHECK(db.count() == 4);
  CHECK(db.count("caller = 'poison'") == 0);
}

TEST_CASE("destroying a PgUsageStore writes what is still queued", "[usage_store]") {
  MigratedDatabase db;
  PgUsageStore::Settings settings = quick_settings();
  settings.flush_interval = std::chrono::hours(1);
  settings.batch_size = 1000;
  {
    PgUsageStore store(db.pool, settings);
    for (int i = 0; i < 3; ++i) {
      store.record(ok_record("r" + std::to_string(i)));
    }
    CHECK(store.counters().pending == 3);
  }
  CHECK(db.count() == 3);
}

TEST_CASE("stats() reports an unreachable PostgreSQL as DATABASE_ERROR", "[usage_store]") {
  PgPool pool(pool_settings("postgresql://rally@127.0.0.1:" + std::to_string(rally::testing::free_port()) +
                            "/rally"));
  PgUsageStore store(pool, quick_settings());
  const auto stats = store.stats({}, kNoon, kNoon + std::chrono::hours(1));
  REQUIRE_FALSE(stats.ok());
  CHECK(stats.error().code == ErrorCode::kDatabaseError);
}

TEST_CASE("PgUsageStore refuses settings out of range", "[usage_store]") {
  PgPool pool(pool_settings("postgresql://rally@127.0.0.1:1/never-contacted"));
  const auto with = [](auto change) {
    PgUsageStore::Settings settings;
    change(settings);
    return settings;
  };
  CHECK_THROWS_AS(PgUsageStore(pool, with([](auto& s) { s.batch_size = 0; })), std::invalid_argument);
  CHECK_THROWS_AS(PgUsageStore(pool, with([](auto& s) { s.batch_size = 1001; })), std::invalid_argument);
  CHECK_THROWS_AS(PgUsageStore(pool, with([](auto& s) { s.max_queue_records = 0; })), std::invalid_argument);
  CHECK_THROWS_AS(PgUsageStore(pool, with([](auto& s) { s.write_attempts = 0; })), std::invalid_argument);
  CHECK_THROWS_AS(PgUsageStore(pool, with([](auto& s) { s.max_retry_backoff = milliseconds(1); })),
                  std::invalid_argument);
}
