// POST /criticize_user_request bodies: the seed's {prompt} in, {score, description} out, with the chain's
// receipts beside them (tx_hash, run_id, block_number), timings and whether the simulator answered.
#pragma once

#include <string>
#include <string_view>

#include "rally/v1/critique.pb.h"
#include "services/common/errors.h"

namespace rally::gateway::routes {

// {"prompt": "..."}: a missing, non-string or blank prompt is 400 "Prompt is required".
common::Result<v1::CriticizeRequest> parse_criticize_body(std::string_view body);

// {"score": 7.0, "description": "...", "tx_hash": "0x..", "run_id": "12", "block_number": 40,
//  "latency_ms": 812.4, "chain_ms": 120.9, "simulated": true}
std::string criticize_response_body(const v1::CriticizeResponse& response);

}  // namespace rally::gateway::routes
