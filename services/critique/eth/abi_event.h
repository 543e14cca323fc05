// Contract events: the topic a log filter matches on and the decoding of a log's topics and data back into
// the event's parameters (e.g. the oracle's PromptAdded, which the worker watches).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "services/common/errors.h"
#include "services/critique/eth/abi_codec.h"
#include "services/critique/eth/keccak.h"

namespace rally::critique::eth::abi {

// keccak256 of a canonical event signature, e.g. "Transfer(address,address,uint256)": the log's topics[0].
Hash32 event_topic(std::string_view canonical_signature);

// A (non-anonymous) event: "PromptAdded(uint256 indexed,uint256 indexed,address)", names allowed as in
// Function::parse. At most 3 parameters may be indexed.
struct EventSpec {
  std::string name;
  std::vector<Parameter> params;

  // "PromptAdded(uint256,uint256,address)": canonical types, without `indexed` and names.
  std::string signature() const;
  Hash32 topic0() const;

  // The parameters in declaration order: indexed ones from topics[1..], the others decoded from `data`.
  // Indexed uintN/intN/address/bool/bytesN come back as values (their word validated as in decode());
  // an indexed string, bytes, array or tuple is only its keccak256 in the log and comes back as
  // Value::fixed_bytes of that 32-byte hash. A topics[0] other than topic0(), or a topic count other than
  // 1 + the indexed parameters, is kInvalidRequest.
  common::Result<std::vector<Value>> decode_log(const std::vector<Hash32>& topics,
                                                std::span<const std::uint8_t> data) const;
};

common::Result<EventSpec> parse_event(std::string_view signature);

}  // namespace rally::critique::eth::abi
