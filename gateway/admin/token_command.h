// `rally-admin token ...` (and so `./rally token ...`): create, list, revoke and import API tokens straight
// against PostgreSQL through a TokenStore, announcing each change so running gateways apply it at once.
// Apart from main() so that it runs in tests against a scratch database.
#pragma once

#include <functional>
#include <iosfwd>
#include <string>
#include <string_view>
#include <vector>

namespace rally::gateway::edge {
class TokenStore;
}

namespace rally::gateway::admin {

// Exit statuses: done, the store refused or failed (unknown token, name taken, PostgreSQL down), bad usage.
inline constexpr int kExitOk = 0;
inline constexpr int kExitFailed = 1;
inline constexpr int kExitUsage = 2;

// Tells running gateways that token `id` was "created" or "revoked" (edge::token_event_message on
// edge::kTokenEventsChannel in rally-admin). Throws when it cannot; the command then warns that gateways
// see the change only at their next refresh.
using Announce = std::function<void(std::string_view op, std::string_view id)>;

// The usage text (the arguments after "token").
std::string_view token_usage();

// Runs the arguments after "token":
//   create --name NAME --scopes read[,write[,admin]] [--rate-limit CLASS=N ...]
//       prints the raw token, alone, on `out` (the only time it is shown) and what was created on `err`
//   list                                  every token as a table on `out`
//   revoke ID|NAME
//   import --name NAME --scope SCOPE --file PATH
//       stores the token in the file's first line (idempotent: an unchanged token is fine)
// Messages and errors go to `err`. Returns kExitOk, kExitFailed or kExitUsage (with the usage on `err`).
int run_token_command(const std::vector<std::string>& args, edge::TokenStore& store, const Announce& announce,
                      std::ostream& out, std::ostream& err);

}  // namespace rally::gateway::admin
