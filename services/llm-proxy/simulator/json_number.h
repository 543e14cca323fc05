// Reading JSON integers the way both provider APIs accept them: the one definition lives in
// rally_openai_wire, which the simulator links.
#pragma once

#include "services/llm-proxy/wire/json_number.h"

namespace rally::llm_simulator {

using openai_wire::as_integer;

}  // namespace rally::llm_simulator
