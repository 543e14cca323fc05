// The absolute http:// and https:// URLs the provider client accepts, split into what a connection and a
// request line need. Pure: configuration validates provider base URLs with it at start-up, and the client
// parses every request's URL with it.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "services/common/errors.h"

namespace rally::llm_proxy {

struct HttpUrl {
  bool tls = false;        // https
  std::string host;        // lower-case name, IPv4 literal, or IPv6 literal without brackets
  std::uint16_t port = 0;  // explicit, or 80 / 443 by scheme
  std::string target;      // origin-form request target: path and query, "/" when the path is empty

  // "https://api.openai.com:443": the scheme, host and port that identify a pooled connection's peer.
  std::string origin() const;
  // The Host header value: host, bracketed when IPv6, with ":port" only when it is not the scheme's default.
  std::string authority() const;
  // True when host is an IPv4 or IPv6 literal (such hosts get no SNI, and certificates must name the IP).
  bool host_is_ip_literal() const;

  // Accepts absolute http/https URLs with a host. Rejects other schemes, user info (credentials belong in
  // headers, not in URLs that end up in logs), IPvFuture hosts, percent-encoded host names and ports
  // outside 1..65535. The fragment is dropped, since it is never sent. Errors are kInvalidRequest.
  static common::Result<HttpUrl> parse(std::string_view url);

  bool operator==(const HttpUrl&) const = default;
};

}  // namespace rally::llm_proxy
