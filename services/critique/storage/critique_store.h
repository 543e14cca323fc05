// What the critique service keeps in PostgreSQL (schema critique, migration 0002): each critique's
// outcome, the oracle worker's cursor, and each oracle answer. The interface keeps libpqxx out of the
// engine and the rpc layer.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "services/common/errors.h"

namespace rally::critique {

// One critique as recorded (never the prompt text).
struct CritiqueRecord {
  std::string prompt_hash;  // 0x Keccak-256
  std::uint32_t prompt_bytes = 0;
  std::string outcome;  // answered, oracle_error, bad_answer, failed
  std::optional<double> score;
  std::optional<std::string> description;
  std::optional<std::string> error;
  std::optional<std::string> tx_hash;
  std::optional<std::string> run_id;  // decimal uint256
  std::optional<std::uint64_t> request_block;
  std::optional<std::uint64_t> answer_block;
  bool simulated = false;
  double latency_ms = 0;
  double chain_ms = 0;
};

// One prompt handled by the oracle worker.
struct OracleAnswerRecord {
  std::string oracle_address;  // lower-case hex
  std::string prompt_id;       // decimal
  std::string callback_id;     // decimal
  std::uint64_t prompt_block = 0;
  std::string outcome;  // answered, error_answered, already_answered, failed
  std::optional<std::string> model;
  bool simulated = false;
  std::optional<double> llm_ms;
  std::optional<std::string> tx_hash;
  std::optional<std::string> error;
};

class CritiqueStore {
 public:
  virtual ~CritiqueStore() = default;

  virtual common::Result<std::int64_t> record_critique(const CritiqueRecord& record) = 0;

  // The worker's next block for `oracle_address`, nullopt before its first run.
  virtual common::Result<std::optional<std::uint64_t>> oracle_cursor(const std::string& oracle_address) = 0;
  // Moves the cursor forward (never back: a slower replica's older position is ignored).
  virtual common::Result<bool> advance_oracle_cursor(const std::string& oracle_address,
                                                     std::uint64_t chain_id, std::uint64_t next_block) = 0;
  // Sets the cursor back to `next_block`: the chain is behind the stored position, i.e. it was reset (a new
  // local chain with the same contract addresses). Answers stay exactly once: the contract refuses repeats.
  virtual common::Result<bool> rewind_oracle_cursor(const std::string& oracle_address,
                                                    std::uint64_t next_block) = 0;
  // Records (or replaces) what the worker did with one prompt.
  virtual common::Result<bool> record_oracle_answer(const OracleAnswerRecord& record) = 0;
};

}  // namespace rally::critique
