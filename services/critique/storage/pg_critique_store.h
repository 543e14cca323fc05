// CritiqueStore in PostgreSQL (schema critique, migration 0002).
#pragma once

#include "services/common/pg_store_settings.h"
#include "services/critique/storage/critique_store.h"

namespace rally::common {
class PgPool;
}

namespace rally::critique {

class PgCritiqueStore final : public CritiqueStore {
 public:
  // The pool must outlive the store. Throws std::invalid_argument for settings out of range.
  PgCritiqueStore(common::PgPool& pool, common::pg::StoreSettings settings);

  common::Result<std::int64_t> record_critique(const CritiqueRecord& record) override;
  common::Result<std::optional<std::uint64_t>> oracle_cursor(const std::string& oracle_address) override;
  common::Result<bool> advance_oracle_cursor(const std::string& oracle_address, std::uint64_t chain_id,
                                             std::uint64_t next_block) override;
  common::Result<bool> rewind_oracle_cursor(const std::string& oracle_address,
                                            std::uint64_t next_block) override;
  common::Result<bool> record_oracle_answer(const OracleAnswerRecord& record) override;

 private:
  common::PgPool& pool_;
  const common::pg::StoreSettings settings_;
};

}  // namespace rally::critique
