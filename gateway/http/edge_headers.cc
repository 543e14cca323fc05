#include "gateway/http/edge_headers.h"

#include <algorithm>
#include <utility>

namespace rally::gateway::http {

const Headers& security_headers() {
  // The API answers JSON and event streams only: nothing may be sniffed into HTML, framed, or load
  // anything, and no Referer leaks where a response's links lead.
  static const Headers headers{
      {"X-Content-Type-Options", "nosniff"},
      {"X-Frame-Options", "DENY"},
      {"Referrer-Policy", "no-referrer"},
      {"Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'"},
  };
  return headers;
}

CorsPolicy::CorsPolicy(std::vector<std::string> origins) {
  for (std::string& origin : origins) {
    if (origin == "*") {
      any_ = true;
    } else if (!origin.empty()) {
      origins_.push_back(std::move(origin));
    }
  }
}

bool CorsPolicy::allows(std::string_view origin) const {
  if (origin.empty()) {
    return false;
  }
  if (std::find(origins_.begin(), origins_.end(), origin) != origins_.end()) {
    return true;
  }
  return any_ && origin != "null";
}

std::string CorsPolicy::problem_with(std::string_view origin) {
  if (origin == "*" || origin == "null") {
    return {};
  }
  std::string_view rest;
  if (origin.starts_with("https://")) {
    rest = origin.substr(8);
  } else if (origin.starts_with("http://")) {
    rest = origin.substr(7);
  } else {
    return "\"" + std::string(origin) + "\" is not an origin: it must start with http:// or https://";
  }
  if (rest.empty()) {
    return "\"" + std::string(origin) + "\" has no host";
  }
  const bool clean = std::all_of(rest.begin(), rest.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '-' || c == ':' || c == '[' ||
           c == ']';
  });
  if (!clean) {
    return "\"" + std::string(origin) +
           "\" is not an origin as browsers send it: a lower-case host and an optional port, no path";
  }
  return {};
}

}  // namespace rally::gateway::http
