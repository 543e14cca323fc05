#include "services/critique/eth/abi_function.h"

#include <algorithm>

#include "services/critique/eth/keccak.h"

namespace rally::critique::eth::abi {
namespace {

common::Error invalid(std::string message) {
  return common::Error(common::ErrorCode::kInvalidRequest, "ABI function: " + std::move(message));
}

bool is_ident_start(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == '$';
}

std::vector<Type> types_of(std::vector<Parameter>& params) {
  std::vector<Type> out;
  out.reserve(params.size());
  for (Parameter& p : params) out.push_back(std::move(p.type));
  return out;
}

}  // namespace

common::Result<Function> Function::parse(std::string_view signature) {
  std::size_t pos = 0;
  while (pos < signature.size() && signature[pos] == ' ') ++pos;
  const std::size_t name_start = pos;
  if (pos < signature.size() && is_ident_start(signature[pos])) {
    while (pos < signature.size() &&
           (is_ident_start(signature[pos]) || (signature[pos] >= '0' && signature[pos] <= '9')))
      ++pos;
  }
  if (pos == name_start)
    return invalid("signature must start with a function name: " + std::string(signature));
  Function out;
  out.name_ = std::string(signature.substr(name_start, pos - name_start));

  auto inputs = parse_parameter_list(signature, pos, false);
  if (!inputs) return inputs.error();
  out.inputs_ = types_of(inputs.value());

  while (pos < signature.size() && signature[pos] == ' ') ++pos;
  constexpr std::string_view kReturns = "returns";
  if (signature.substr(pos).starts_with(kReturns)) {
    pos += kReturns.size();
    while (pos < signature.size() && signature[pos] == ' ') ++pos;
    auto outputs = parse_parameter_list(signature, pos, false);
    if (!outputs) return outputs.error();
    out.outputs_ = types_of(outputs.value());
    while (pos < signature.size() && signature[pos] == ' ') ++pos;
  }
  if (pos != signature.size()) {
    return invalid("unexpected '" + std::string(signature.substr(pos)) + "' after the parameters");
  }
  return out;
}

std::string Function::signature() const {
  return name_ + canonical_list(inputs_);
}

std::array<std::uint8_t, 4> Function::selector() const {
  const Hash32 hash = keccak256(signature());
  return {hash[0], hash[1], hash[2], hash[3]};
}

common::Result<Bytes> Function::encode_call(const std::vector<Value>& args) const {
  auto encoded = encode(inputs_, args);
  if (!encoded) return encoded;
  const auto sel = selector();
  Bytes out(sel.begin(), sel.end());
  out.insert(out.end(), encoded->begin(), encoded->end());
  return out;
}

common::Result<std::vector<Value>> Function::decode_call(std::span<const std::uint8_t> calldata) const {
  const auto sel = selector();
  if (calldata.size() < sel.size() || !std::equal(sel.begin(), sel.end(), calldata.begin())) {
    return invalid("calldata does not start with the selector of " + signature());
  }
  return decode(inputs_, calldata.subspan(sel.size()));
}

common::Result<std::vector<Value>> Function::decode_output(std::span<const std::uint8_t> data) const {
  return decode(outputs_, data);
}

}  // namespace rally::critique::eth::abi
