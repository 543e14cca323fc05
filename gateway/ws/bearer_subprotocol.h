// API tokens for WebSocket clients that cannot send headers. A browser's WebSocket API sets no
// Authorization header, only the offered subprotocols, so the token may travel there instead:
//   new WebSocket("wss://host/api/v1/ws/leaderboard", ["bearer", token])
// sends `Sec-WebSocket-Protocol: bearer, <token>`; the gateway reads the token after "bearer" and selects
// "bearer" in its 101 answer, as the browser requires of a server when subprotocols were offered. Tokens in
// the URL (?access_token=) are not accepted: URLs end up in proxies' and browsers' logs. Pure code.
#pragma once

#include <optional>
#include <string_view>

namespace rally::gateway::ws {

inline constexpr std::string_view kBearerSubprotocol = "bearer";

// The token offered after "bearer" in a Sec-WebSocket-Protocol value ("bearer, rally_x" -> "rally_x"), or
// nullopt when "bearer" is not offered or nothing follows it.
std::optional<std::string_view> bearer_subprotocol_token(std::string_view offered_protocols);

}  // namespace rally::gateway::ws
