#include "gateway/edge/access.h"

namespace rally::gateway::edge {

std::string_view scope_name(Scope scope) {
  switch (scope) {
    case Scope::kRead:
      return "read";
    case Scope::kWrite:
      return "write";
    case Scope::kAdmin:
      return "admin";
  }
  return "read";  // unreachable: every enumerator is handled above
}

std::optional<Scope> parse_scope(std::string_view name) {
  for (const Scope scope : {Scope::kRead, Scope::kWrite, Scope::kAdmin}) {
    if (name == scope_name(scope)) return scope;
  }
  return std::nullopt;
}

}  // namespace rally::gateway::edge
