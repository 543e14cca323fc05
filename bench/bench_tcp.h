// The benches' TCP plumbing: the HOST:PORT options and the set-up and tear-down of a client connection.
// Asio and Beast: only the bench mains include it, and they include both anyway.
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <string>

namespace rally::bench {

// "127.0.0.1:8080" (an IP address, not a name, so no resolver runs); throws std::invalid_argument naming
// `key`.
boost::asio::ip::tcp::endpoint parse_endpoint(const std::string& text, const std::string& key);

// Sets TCP_NODELAY: a request goes out in one write anyway, and like curl and the SDKs the client never lets
// Nagle hold back a segment. A failure only costs latency, so it is ignored.
void set_no_delay(boost::asio::ip::tcp::socket& socket);

// Shuts the connection down both ways and closes it; errors are ignored, the connection is done with.
void shut_down(boost::beast::tcp_stream& stream);

}  // namespace rally::bench
