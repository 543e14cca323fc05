#include "services/critique/storage/pg_critique_store.h"

#include <optional>
#include <string>

#include "services/common/pg_store.h"

namespace rally::critique {
namespace {

namespace pg = common::pg;
using common::Result;
using Parameter = std::optional<std::string>;  // nullopt is SQL NULL

constexpr std::string_view kStore = "critique store";

template <typename T>
Parameter text_of(const std::optional<T>& value) {
  if (!value) return std::nullopt;
  if constexpr (std::is_same_v<T, std::string>) {
    return *value;
  } else if constexpr (std::is_same_v<T, double>) {
    return pg::number(*value);
  } else {
    return std::to_string(*value);
  }
}

}  // namespace

PgCritiqueStore::PgCritiqueStore(common::PgPool& pool, common::pg::StoreSettings settings)
    : pool_(pool), settings_(pg::validated(settings, kStore)) {}

Result<std::int64_t> PgCritiqueStore::record_critique(const CritiqueRecord& record) {
  return pg::run_write<std::int64_t>(pool_, settings_, kStore, "recording a critique", [&](pqxx::work& work) {
    const pqxx::row row = work.exec_params1(
        "INSERT INTO critique.critiques (prompt_hash, prompt_bytes, outcome, score, description, error, "
        "tx_hash, run_id, request_block, answer_block, simulated, latency_ms, chain_ms) VALUES ($1, $2, $3, "
        "$4::float8, $5, $6, $7, $8::numeric, $9::bigint, $10::bigint, $11, $12::float8, $13::float8) "
        "RETURNING id",
        record.prompt_hash, record.prompt_bytes, record.outcome, text_of(record.score), record.description,
        record.error, record.tx_hash, record.run_id, text_of(record.request_block),
        text_of(record.answer_block), record.simulated, pg::number(record.latency_ms),
        pg::number(record.chain_ms));
    return Result<std::int64_t>(row[0].as<std::int64_t>());
  });
}

Result<std::optional<std::uint64_t>> PgCritiqueStore::oracle_cursor(const std::string& oracle_address) {
  return pg::run_read<std::optional<std::uint64_t>>(
      pool_, settings_, kStore, "reading the oracle cursor", [&](pqxx::read_transaction& read) {
        const pqxx::result rows = read.exec_params(
            "SELECT next_block FROM critique.oracle_cursor WHERE oracle_address = $1", oracle_address);
        if (rows.empty()) return Result<std::optional<std::uint64_t>>(std::nullopt);
        return Result<std::optional<std::uint64_t>>(rows[0][0].as<std::uint64_t>());
      });
}

Result<bool> PgCritiqueStore::advance_oracle_cursor(const std::string& oracle_address, std::uint64_t chain_id,
                                                    std::uint64_t next_block) {
  return pg::run_write<bool>(pool_, settings_, kStore, "advancing the oracle cursor", [&](pqxx::work& work) {
    const pqxx::result rows = work.exec_params(
        "INSERT INTO critique.oracle_cursor (oracle_address, chain_id, next_block) VALUES ($1, $2, $3) "
        "ON CONFLICT (oracle_address) DO UPDATE SET next_block = EXCLUDED.next_block, updated_at = now() "
        "WHERE critique.oracle_cursor.next_block < EXCLUDED.next_block RETURNING next_block",
        oracle_address, chain_id, next_block);
    return Result<bool>(!rows.empty());
  });
}

Result<bool> PgCritiqueStore::rewind_oracle_cursor(const std::string& oracle_address,
                                                   std::uint64_t next_block) {
  return pg::run_write<bool>(pool_, settings_, kStore, "rewinding the oracle cursor", [&](pqxx::work& work) {
    const pqxx::result rows = work.exec_params(
        "UPDATE critique.oracle_cursor SET next_block = $2, updated_at = now() WHERE oracle_address = $1 "
        "RETURNING next_block",
        oracle_address, next_block);
    return Result<bool>(!rows.empty());
  });
}

Result<bool> PgCritiqueStore::record_oracle_answer(const OracleAnswerRecord& record) {
  return pg::run_write<bool>(pool_, settings_, kStore, "recording an oracle answer", [&](pqxx::work& work) {
    work.exec_params0(
        "INSERT INTO critique.oracle_answers (oracle_address, prompt_id, callback_id, prompt_block, outcome, "
        "model, simulated, llm_ms, tx_hash, error) VALUES ($1, $2::numeric, $3::numeric, $4, $5, $6, $7, "
        "$8::float8, $9, $10) ON CONFLICT (oracle_address, prompt_id) DO UPDATE SET outcome = "
        "EXCLUDED.outcome, model = EXCLUDED.model, simulated = EXCLUDED.simulated, llm_ms = EXCLUDED.llm_ms, "
        "tx_hash = EXCLUDED.tx_hash, error = EXCLUDED.error, answered_at = now()",
        record.oracle_address, record.prompt_id, record.callback_id, record.prompt_block, record.outcome,
        record.model, record.simulated, text_of(record.llm_ms), record.tx_hash, record.error);
    return Result<bool>(true);
  });
}

}  // namespace rally::critique
