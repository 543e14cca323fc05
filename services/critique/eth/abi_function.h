// A contract function as the caller sees it: its selector, calldata for a call, and its decoded results.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "services/common/errors.h"
#include "services/critique/eth/abi_codec.h"

namespace rally::critique::eth::abi {

// A contract function: "sendMessage(string)", "transfer(address,uint256)". Parameter names and spaces are
// accepted ("transfer(address to, uint256 amount)") and a return list may follow: "response() returns
// (string)". The selector hashes signature(), the canonical form.
class Function {
 public:
  static common::Result<Function> parse(std::string_view signature);

  const std::string& name() const { return name_; }
  const std::vector<Type>& inputs() const { return inputs_; }
  const std::vector<Type>& outputs() const { return outputs_; }
  void set_outputs(std::vector<Type> outputs) { outputs_ = std::move(outputs); }

  // "name(T1,T2)": canonical input types, no names, no spaces, no return list.
  std::string signature() const;
  // First 4 bytes of keccak256(signature()).
  std::array<std::uint8_t, 4> selector() const;

  // selector || encode(inputs, args).
  common::Result<Bytes> encode_call(const std::vector<Value>& args) const;
  // The arguments of calldata made for this function; a different selector is an error.
  common::Result<std::vector<Value>> decode_call(std::span<const std::uint8_t> calldata) const;
  // What eth_call returned, as the outputs.
  common::Result<std::vector<Value>> decode_output(std::span<const std::uint8_t> data) const;

 private:
  std::string name_;
  std::vector<Type> inputs_;
  std::vector<Type> outputs_;
};

}  // namespace rally::critique::eth::abi
