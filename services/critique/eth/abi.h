// The Solidity contract ABI in one include: types and values, encode/decode, functions and events.
#pragma once

#include "services/critique/eth/abi_codec.h"     // IWYU pragma: export
#include "services/critique/eth/abi_event.h"     // IWYU pragma: export
#include "services/critique/eth/abi_function.h"  // IWYU pragma: export
#include "services/critique/eth/abi_type.h"      // IWYU pragma: export
#include "services/critique/eth/abi_value.h"     // IWYU pragma: export
