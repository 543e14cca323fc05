// Where the critique contracts live, as rally-chain-deploy writes them to a small JSON file that the
// critique service reads: {"chain_id": n, "oracle": "0x..", "critic": "0x..", "worker": "0x..",
// "block": n}.
#pragma once

#include <cstdint>
#include <string>

#include "services/common/errors.h"
#include "services/critique/eth/address.h"

namespace rally::critique::chain {

struct ContractAddresses {
  std::uint64_t chain_id = 0;
  eth::Address oracle;
  eth::Address critic;
  std::uint64_t deploy_block = 0;  // where the oracle worker starts reading
};

// Reads the file above; errors (kInvalidRequest) name the file and what is wrong.
common::Result<ContractAddresses> read_contract_addresses(const std::string& path);
// The file's text for `addresses`, with the whitelisted worker for the record.
std::string contract_addresses_json(const ContractAddresses& addresses, const eth::Address& worker);

}  // namespace rally::critique::chain
