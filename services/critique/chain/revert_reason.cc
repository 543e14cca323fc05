#include "services/critique/chain/revert_reason.h"

#include <array>
#include <string_view>
#include <vector>

#include "services/critique/eth/abi.h"
#include "services/critique/eth/hex.h"

namespace rally::critique::chain {
namespace {

constexpr std::array<std::uint8_t, 4> kErrorSelector{0x08, 0xc3, 0x79, 0xa0};  // Error(string)
constexpr std::array<std::uint8_t, 4> kPanicSelector{0x4e, 0x48, 0x7b, 0x71};  // Panic(uint256)

std::string_view panic_meaning(std::uint64_t code) {
  switch (code) {
    case 0x01:
      return "assertion failed";
    case 0x11:
      return "arithmetic overflow";
    case 0x12:
      return "division by zero";
    case 0x21:
      return "invalid enum value";
    case 0x31:
      return "pop from an empty array";
    case 0x32:
      return "array index out of bounds";
    case 0x41:
      return "out of memory";
    case 0x51:
      return "call to an invalid function";
    default:
      return "unknown panic";
  }
}

bool starts_with(std::span<const std::uint8_t> data, const std::array<std::uint8_t, 4>& selector) {
  return data.size() >= selector.size() && std::equal(selector.begin(), selector.end(), data.begin());
}

}  // namespace

std::string revert_reason(std::span<const std::uint8_t> data) {
  if (data.empty()) return "no reason given";
  if (data.size() < 4) return "malformed revert data " + eth::to_hex(data);
  const std::span<const std::uint8_t> arguments = data.subspan(4);
  if (starts_with(data, kErrorSelector)) {
    auto decoded = eth::abi::decode({eth::abi::Type::parse("string").value()}, arguments);
    if (decoded.ok()) {
      if (auto text = decoded.value().at(0).as_string()) return std::string(*text);
    }
    return "malformed Error(string) " + eth::to_hex(data);
  }
  if (starts_with(data, kPanicSelector)) {
    auto decoded = eth::abi::decode({eth::abi::Type::parse("uint256").value()}, arguments);
    if (decoded.ok()) {
      if (auto code = decoded.value().at(0).as_uint()) {
        const std::optional<std::uint64_t> small = code->to_u64();
        return "panic " + code->to_quantity() + " (" +
               std::string(small ? panic_meaning(*small) : "unknown panic") + ")";
      }
    }
    return "malformed Panic(uint256) " + eth::to_hex(data);
  }
  return "custom error " + eth::to_hex(data.first(4));
}

}  // namespace rally::critique::chain
