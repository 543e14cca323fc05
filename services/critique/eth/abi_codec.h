// The Solidity contract ABI (docs.soliditylang.org, "Contract ABI Specification"): head/tail encoding of
// call arguments and decoding of return data. Return data comes from the chain node and is untrusted:
// decode() checks every offset and length against the input and bounds the work any input can cause, so
// hostile data is an error, never a crash or a huge allocation.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "services/common/errors.h"
#include "services/critique/eth/abi_type.h"
#include "services/critique/eth/abi_value.h"
#include "services/critique/eth/hex.h"

namespace rally::critique::eth::abi {

// The encoding of `values` as the tuple (types...). Each value must match its type, else kInvalidRequest
// naming the position: the same kind (Value::uint for uintN, Value::int_/int_word for intN, fixed_bytes of
// exactly N bytes for bytesN, array of exactly k items for T[k], tuple of as many items as components) and
// in range (below 2^N for uintN, within intN's range).
common::Result<Bytes> encode(const std::vector<Type>& types, const std::vector<Value>& values);

// Decodes the tuple (types...) from `data` (trailing bytes are ignored, as Solidity does). Errors
// (kInvalidRequest): an offset or length past the end of the data, an array longer than its data could hold,
// a uintN/intN/address/bool/bytesN word with bits outside its type (dirty padding), and inputs whose
// offsets alias each other so much that decoding would produce far more than the data holds. The padding
// after bytes and string contents is not checked.
common::Result<std::vector<Value>> decode(const std::vector<Type>& types, std::span<const std::uint8_t> data);

}  // namespace rally::critique::eth::abi
