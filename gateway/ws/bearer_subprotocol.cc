#include "gateway/ws/bearer_subprotocol.h"

#include <cstddef>

namespace rally::gateway::ws {
namespace {

std::string_view trimmed(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

}  // namespace

std::optional<std::string_view> bearer_subprotocol_token(std::string_view offered_protocols) {
  bool after_bearer = false;
  while (!offered_protocols.empty()) {
    const std::size_t comma = offered_protocols.find(',');
    const std::string_view element = trimmed(offered_protocols.substr(0, comma));
    offered_protocols =
        comma == std::string_view::npos ? std::string_view{} : offered_protocols.substr(comma + 1);
    if (after_bearer) {
      if (element.empty()) return std::nullopt;
      return element;
    }
    // Subprotocol names compare case-sensitively (RFC 6455 section 4.1).
    after_bearer = element == kBearerSubprotocol;
  }
  return std::nullopt;
}

}  // namespace rally::gateway::ws
