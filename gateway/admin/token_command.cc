#include "gateway/admin/token_command.h"

#include <algorithm>
#include <charconv>
#include <fstream>
#include <iomanip>
#include <map>
#include <optional>
#include <ostream>
#include <sstream>

#include "gateway/edge/token_store.h"
#include "gateway/http/envelope.h"

namespace rally::gateway::admin {
namespace {

constexpr std::string_view kUsage =
    "usage: rally-admin token create --name NAME --scopes read[,write[,admin]] [--rate-limit CLASS=N ...]\n"
    "       rally-admin token list\n"
    "       rally-admin token revoke ID|NAME\n"
    "       rally-admin token import --name NAME --scope SCOPE --file PATH\n"
    "Scopes nest (admin includes write, write includes read); a token keeps the highest it is given.\n"
    "CLASS is a rate-limit class (score, batch, naming, compare, llm, vote, critique, read, admin) and N "
    "its\n"
    "requests per window for this token (0: not limited). The raw token is printed once, at creation.\n"
    "Reads RALLY_PG_URL (PostgreSQL) and RALLY_REDIS_ADDR (to tell running gateways) like the gateway.\n";

// A usage error: the message, then the usage.
int usage(std::ostream& err, std::string_view message) {
  err << "rally-admin: " << message << "\n\n" << kUsage;
  return kExitUsage;
}

int failed(std::ostream& err, const common::Error& error) {
  err << "rally-admin: " << error.message;
  for (const auto& [key, value] : error.details) err << " (" << key << ": " << value << ")";
  if (error.code == common::ErrorCode::kDatabaseError) err << " (is RALLY_PG_URL right, and the server up?)";
  err << '\n';
  return kExitFailed;
}

void announce_change(const Announce& announce, std::string_view op, std::string_view id, std::ostream& err) {
  try {
    announce(op, id);
  } catch (const std::exception& e) {
    err << "rally-admin: warning: running gateways were not told (" << e.what()
        << "); they see the change at their next refresh (RALLY_GATEWAY_TOKEN_REFRESH, 30s by default)\n";
  }
}

// "--name N" options after the subcommand; repeatable ones collect every value. nullopt (with a usage
// error written) for an unknown option, a missing value or a repeated single option.
std::optional<std::multimap<std::string, std::string>> parse_options(
    const std::vector<std::string>& args, std::initializer_list<std::string_view> known,
    std::string_view repeatable, std::ostream& err) {
  std::multimap<std::string, std::string> options;
  for (std::size_t i = 1; i < args.size(); ++i) {
    std::string name = args[i];
    std::string value;
    if (const std::size_t equals = name.find('='); name.starts_with("--") && equals != std::string::npos) {
      value = name.substr(equals + 1);
      name.resize(equals);
    } else if (i + 1 < args.size()) {
      value = args[++i];
    } else {
      usage(err, "option " + name + " needs a value");
      return std::nullopt;
    }
    if (std::find(known.begin(), known.end(), name) == known.end()) {
      usage(err, "unknown option " + name + " for token " + args[0]);
      return std::nullopt;
    }
    if (name != repeatable && options.contains(name)) {
      usage(err, "option " + name + " given twice");
      return std::nullopt;
    }
    options.emplace(name, value);
  }
  return options;
}

std::optional<std::string> single(const std::multimap<std::string, std::string>& options,
                                  std::string_view name) {
  const auto it = options.find(std::string(name));
  if (it == options.end()) return std::nullopt;
  return it->second;
}

// CLASS=N
std::optional<std::pair<std::string, std::uint32_t>> parse_rate_limit(std::string_view text) {
  const std::size_t equals = text.find('=');
  if (equals == std::string_view::npos || equals == 0) return std::nullopt;
  const std::string_view number = text.substr(equals + 1);
  std::uint32_t limit = 0;
  const auto [end, ec] = std::from_chars(number.data(), number.data() + number.size(), limit);
  if (ec != std::errc() || end != number.data() + number.size() || number.empty()) return std::nullopt;
  return std::pair{std::string(text.substr(0, equals)), limit};
}

std::string describe_limits(const edge::RateLimits& limits) {
  if (limits.empty()) return "-";
  std::string text;
  for (const auto& [route_class, limit] : limits) {
    text += (text.empty() ? "" : ",") + route_class + "=" + std::to_string(limit);
  }
  return text;
}

int create(const std::vector<std::string>& args, edge::TokenStore& store, const Announce& announce,
           std::ostream& out, std::ostream& err) {
  const auto options = parse_options(args, {"--name", "--scopes", "--rate-limit"}, "--rate-limit", err);
  if (!options) return kExitUsage;
  const auto name = single(*options, "--name");
  const auto scopes = single(*options, "--scopes");
  if (!name || !scopes) return usage(err, "token create needs --name and --scopes");
  const common::Result<edge::Scope> scope = edge::parse_scope_list(*scopes);
  if (!scope.ok()) return usage(err, "--scopes " + *scopes + ": the scopes are read, write and admin");
  edge::RateLimits limits;
  const auto [first, last] = options->equal_range("--rate-limit");
  for (auto it = first; it != last; ++it) {
    const auto limit = parse_rate_limit(it->second);
    if (!limit) return usage(err, "--rate-limit " + it->second + ": expected CLASS=N");
    if (!limits.emplace(limit->first, limit->second).second) {
      return usage(err, "--rate-limit " + limit->first + " given twice");
    }
  }

  const common::Result<edge::CreatedToken> created = store.create(*name, scope.value(), limits);
  if (!created.ok()) return failed(err, created.error());
  const edge::TokenRecord& token = created->token;
  err << "Created API token " << token.id << " \"" << token.name << "\" with scope "
      << edge::scope_name(token.scope) << " (rate limits: " << describe_limits(token.rate_limits)
      << ").\nThe token follows; it is shown only this once:\n";
  out << created->raw_token << '\n' << std::flush;
  announce_change(announce, "created", token.id, err);
  return kExitOk;
}

int list(const std::vector<std::string>& args, edge::TokenStore& store, std::ostream& out,
         std::ostream& err) {
  if (args.size() != 1) return usage(err, "token list takes no arguments");
  const common::Result<std::vector<edge::TokenRecord>> tokens = store.list();
  if (!tokens.ok()) return failed(err, tokens.error());

  std::size_t name_width = 4;
  for (const edge::TokenRecord& token : tokens.value()) name_width = std::max(name_width, token.name.size());
  const auto row = [&](std::string_view id, std::string_view name, std::string_view scope,
                       std::string_view state, std::string_view created, std::string_view last_used,
                       std::string_view limits) {
    out << std::left << std::setw(21) << id << ' ' << std::setw(static_cast<int>(name_width)) << name << ' '
        << std::setw(5) << scope << ' ' << std::setw(7) << state << ' ' << std::setw(20) << created << ' '
        << std::setw(20) << last_used << ' ' << limits << '\n';
  };
  row("ID", "NAME", "SCOPE", "STATE", "CREATED", "LAST USED", "RATE LIMITS");
  for (const edge::TokenRecord& token : tokens.value()) {
    row(token.id, token.name, edge::scope_name(token.scope), token.revoked() ? "revoked" : "active",
        http::format_timestamp(token.created_at),
        token.last_used_at ? http::format_timestamp(*token.last_used_at) : "-",
        describe_limits(token.rate_limits));
  }
  return kExitOk;
}

int revoke(const std::vector<std::string>& args, edge::TokenStore& store, const Announce& announce,
           std::ostream& out, std::ostream& err) {
  if (args.size() != 2) return usage(err, "token revoke takes one ID or NAME");
  const common::Result<edge::TokenRecord> revoked = store.revoke(args[1]);
  if (!revoked.ok()) return failed(err, revoked.error());
  out << "Revoked API token " << revoked->id << " \"" << revoked->name << "\" (at "
      << http::format_timestamp(*revoked->revoked_at) << ").\n";
  announce_change(announce, "revoked", revoked->id, err);
  return kExitOk;
}

int import(const std::vector<std::string>& args, edge::TokenStore& store, const Announce& announce,
           std::ostream& out, std::ostream& err) {
  const auto options = parse_options(args, {"--name", "--scope", "--file"}, "", err);
  if (!options) return kExitUsage;
  const auto name = single(*options, "--name");
  const auto scope_text = single(*options, "--scope");
  const auto path = single(*options, "--file");
  if (!name || !scope_text || !path) return usage(err, "token import needs --name, --scope and --file");
  const std::optional<edge::Scope> scope = edge::parse_scope(*scope_text);
  if (!scope) return usage(err, "--scope " + *scope_text + ": one of read, write, admin");

  std::ifstream file(*path);
  std::string raw;
  if (!file || !std::getline(file, raw)) {
    err << "rally-admin: cannot read a token from " << *path << '\n';
    return kExitFailed;
  }
  while (!raw.empty() && (raw.back() == '\r' || raw.back() == ' ' || raw.back() == '\t')) raw.pop_back();

  const common::Result<edge::ImportedToken> imported = store.import(*name, *scope, raw);
  if (!imported.ok()) return failed(err, imported.error());
  if (imported->created) {
    out << "Imported the token in " << *path << " as API token " << imported->id << " \"" << *name
        << "\" with scope " << edge::scope_name(*scope) << ".\n";
    announce_change(announce, "created", imported->id, err);
  } else if (imported->revoked) {
    err << "rally-admin: API token " << imported->id << " \"" << *name << "\" holds the token in " << *path
        << " but was revoked, which stands: use a new token under another name\n";
    return kExitFailed;
  } else {
    out << "API token " << imported->id << " \"" << *name << "\" holds the token in " << *path
        << " already; nothing changed.\n";
  }
  return kExitOk;
}

}  // namespace

std::string_view token_usage() {
  return kUsage;
}

int run_token_command(const std::vector<std::string>& args, edge::TokenStore& store, const Announce& announce,
                      std::ostream& out, std::ostream& err) {
  if (args.empty()) return usage(err, "token needs a command");
  const std::string& command = args[0];
  if (command == "create") return create(args, store, announce, out, err);
  if (command == "list") return list(args, store, out, err);
  if (command == "revoke") return revoke(args, store, announce, out, err);
  if (command == "import") return import(args, store, announce, out, err);
  return usage(err, "unknown token command " + command);
}

}  // namespace rally::gateway::admin
