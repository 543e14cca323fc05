// The OpenAPI 3.1 document of every gateway route (docs/openapi.yaml), as compact JSON. The build converts
// the YAML with gateway/openapi/openapi_to_json.py into a generated source that defines this function, so
// the gateway needs no YAML parser; GET /openapi.json serves it (routes/openapi_routes.h).
#pragma once

#include <string_view>

namespace rally::gateway {

// The whole document; valid for the life of the process.
std::string_view openapi_json();

}  // namespace rally::gateway
