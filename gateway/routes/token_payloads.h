// The JSON of the admin token routes, pure (tested in tests/unit/gateway/token_payloads_test.cc). A
// token's JSON never holds its hash; only the answer to a creation holds the raw token.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "gateway/edge/access.h"
#include "gateway/edge/token_store.h"
#include "services/common/errors.h"

namespace rally::gateway::routes {

struct NewTokenRequest {
  std::string name;
  edge::Scope scope = edge::Scope::kRead;
  edge::RateLimits rate_limits;
};

// POST /api/v1/admin/tokens: {"name": "ci", "scopes": "read,write" | ["read","write"]} or
// {"name": "ci", "scope": "write"}, optionally "rate_limits": {"<class>": <requests per window, 0 for none>}.
// The highest scope named wins (scopes nest). Anything else (not an object, a missing or ill-typed field,
// both scope and scopes, an unknown field, a bad name, scope or limit) is 400 INVALID_REQUEST naming the
// field.
common::Result<NewTokenRequest> parse_new_token_body(std::string_view body);

// {"id","name","scope":"write","scopes":["read","write"],"rate_limits":{...},"created_at",
//  "last_used_at" (or null),"revoked_at" (or null),"active":bool}; times as "2026-11-22T10:00:00Z".
std::string token_json(const edge::TokenRecord& token);
// [token, ...]
std::string token_list_json(const std::vector<edge::TokenRecord>& tokens);
// The token's JSON plus "token": the raw token, shown this once.
std::string created_token_json(const edge::CreatedToken& created);

}  // namespace rally::gateway::routes
