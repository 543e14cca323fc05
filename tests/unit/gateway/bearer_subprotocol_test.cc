#include "gateway/ws/bearer_subprotocol.h"

#include <catch2/catch.hpp>
#include <optional>
#include <string_view>

namespace rally::gateway::ws {
namespace {

using Token = std::optional<std::string_view>;

TEST_CASE("the token offered after the bearer subprotocol is found", "[websocket]") {
  CHECK(bearer_subprotocol_token("bearer, rally_abc") == Token("rally_abc"));
  CHECK(bearer_subprotocol_token("bearer,rally_abc") == Token("rally_abc"));
  CHECK(bearer_subprotocol_token("  bearer ,\trally_abc  ") == Token("rally_abc"));
  CHECK(bearer_subprotocol_token("json, bearer, rally_abc, other") == Token("rally_abc"));
}

TEST_CASE("no bearer subprotocol, or nothing after it, is no token", "[websocket]") {
  CHECK_FALSE(bearer_subprotocol_token(""));
  CHECK_FALSE(bearer_subprotocol_token("json"));
  CHECK_FALSE(bearer_subprotocol_token("rally_abc"));
  CHECK_FALSE(bearer_subprotocol_token("bearer"));
  CHECK_FALSE(bearer_subprotocol_token("bearer, "));
  CHECK_FALSE(bearer_subprotocol_token("bearer,,rally_abc"));
  // Subprotocol names are case-sensitive.
  CHECK_FALSE(bearer_subprotocol_token("Bearer, rally_abc"));
}

}  // namespace
}  // namespace rally::gateway::ws
