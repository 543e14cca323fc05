// The reason a reverted call gives, from the data the node returns: Solidity's Error(string) and
// Panic(uint256), or a short description of anything else. Pure: no I/O.
#pragma once

#include <cstdint>
#include <span>
#include <string>

namespace rally::critique::chain {

// "already answered" for Error("already answered"); "panic 0x11 (arithmetic overflow)" for a Panic;
// "no reason given" for empty data; "custom error 0x12345678" for an unknown selector.
std::string revert_reason(std::span<const std::uint8_t> data);

}  // namespace rally::critique::chain
