// The critique service's Solidity contracts (LlmOracle.sol, LlmCritic.sol in this folder), compiled at build
// time by the solc pinned in package.json (optimizer on, 200 runs, evmVersion paris) through compile.js.
// The definitions live in a generated source file in the build tree; nothing here is hand-maintained.
#pragma once

#include <string_view>

namespace rally::critique::contracts {

struct CompiledContract {
  std::string_view name;          // the Solidity contract name, e.g. "LlmCritic"
  std::string_view abi_json;      // the ABI as compact JSON (an array)
  std::string_view bytecode_hex;  // creation bytecode, lower-case hex without 0x; append the ABI-encoded
                                  // constructor arguments to deploy
};

const CompiledContract& llm_oracle();
const CompiledContract& llm_critic();  // constructor(address oracle)
std::string_view solc_version();       // the compiler's full version string, e.g. 0.8.28+commit.7893614a...

}  // namespace rally::critique::contracts
