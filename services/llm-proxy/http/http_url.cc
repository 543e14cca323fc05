#include "services/llm-proxy/http/http_url.h"

#include <arpa/inet.h>

#include <algorithm>
#include <array>
#include <boost/url/grammar/ci_string.hpp>
#include <boost/url/parse.hpp>
#include <boost/url/url_view.hpp>
#include <cctype>
#include <charconv>

namespace rally::llm_proxy {
namespace {

namespace urls = boost::urls;

constexpr std::uint16_t kHttpPort = 80;
constexpr std::uint16_t kHttpsPort = 443;

common::Error invalid(std::string_view url, std::string_view problem) {
  return common::Error(common::ErrorCode::kInvalidRequest,
                       "invalid upstream URL \"" + std::string(url) + "\": " + std::string(problem));
}

// Letters, digits, '-', '.' and '_' (seen in some internal DNS names): everything a resolver accepts
// without percent-decoding, which would let a URL smuggle arbitrary bytes into the Host header and SNI.
bool is_plain_host_name(std::string_view name) {
  return !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '-' || c == '.' || c == '_';
  });
}

}  // namespace

std::string HttpUrl::origin() const {
  const bool ipv6 = host.find(':') != std::string::npos;
  std::string out = tls ? "https://" : "http://";
  out += ipv6 ? "[" + host + "]" : host;
  out += ':';
  out += std::to_string(port);
  return out;
}

std::string HttpUrl::authority() const {
  const bool ipv6 = host.find(':') != std::string::npos;
  std::string out = ipv6 ? "[" + host + "]" : host;
  if (port != (tls ? kHttpsPort : kHttpPort)) {
    out += ':';
    out += std::to_string(port);
  }
  return out;
}

bool HttpUrl::host_is_ip_literal() const {
  std::array<unsigned char, sizeof(in6_addr)> address{};
  return ::inet_pton(AF_INET, host.c_str(), address.data()) == 1 ||
         ::inet_pton(AF_INET6, host.c_str(), address.data()) == 1;
}

common::Result<HttpUrl> HttpUrl::parse(std::string_view url) {
  const auto parsed = urls::parse_uri(url);
  if (!parsed) {
    return invalid(url, "not an absolute URI (" + parsed.error().message() + ")");
  }
  const urls::url_view& view = *parsed;

  HttpUrl out;
  // Schemes are case-insensitive (RFC 3986 3.1); Boost.URL 1.81's scheme_id() only knows lower case.
  const std::string_view scheme = view.scheme();
  if (urls::grammar::ci_is_equal(scheme, "https")) {
    out.tls = true;
  } else if (!urls::grammar::ci_is_equal(scheme, "http")) {
    return invalid(url, "the scheme must be http or https");
  }
  if (view.has_userinfo()) {
    return invalid(url, "user info is not allowed; send credentials in headers");
  }

  switch (view.host_type()) {
    case urls::host_type::ipv4:
      out.host = std::string(view.encoded_host());
      break;
    case urls::host_type::ipv6:
      out.host = view.host_ipv6_address().to_string();
      break;
    case urls::host_type::name: {
      const std::string_view name = view.encoded_host();
      if (!is_plain_host_name(name)) {
        return invalid(url, "the host name may only contain letters, digits, '-', '.' and '_'");
      }
      out.host.resize(name.size());
      std::transform(name.begin(), name.end(), out.host.begin(),
                     [](char c) { return static_cast<char>(std::tolower(static_cast<unsigned char>(c))); });
      break;
    }
    case urls::host_type::none:
      return invalid(url, "the host is missing");
    default:
      return invalid(url, "IPvFuture hosts are not supported");
  }
  if (out.host.empty()) {
    return invalid(url, "the host is missing");
  }

  out.port = out.tls ? kHttpsPort : kHttpPort;
  if (view.has_port() && !view.port().empty()) {
    const std::string_view digits = view.port();
    unsigned value = 0;
    const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
    if (ec != std::errc() || end != digits.data() + digits.size() || value == 0 || value > 65535) {
      return invalid(url, "the port must be in 1..65535");
    }
    out.port = static_cast<std::uint16_t>(value);
  }

  out.target = std::string(view.encoded_path());
  // After an authority the path is empty or starts with '/' (RFC 3986 3.3). Boost.URL 1.81 lets
  // "http://host:8o/" through as port 8 and path "o/", so this is checked here.
  if (!out.target.empty() && out.target.front() != '/') {
    return invalid(url, "malformed port or path after the host");
  }
  if (out.target.empty()) {
    out.target = "/";
  }
  if (view.has_query()) {
    out.target += '?';
    out.target += view.encoded_query();
  }
  return out;
}

}  // namespace rally::llm_proxy
