#include "services/llm-proxy/domain/sse_parser.h"

#include <catch2/catch.hpp>
#include <string>
#include <vector>

namespace rally::llm_proxy {
namespace {

std::vector<SseEvent> parse_whole(std::string_view stream) {
  SseParser parser;
  std::vector<SseEvent> events;
  REQUIRE(parser.feed(stream, events));
  return events;
}

// Feeds the stream in pieces of `piece` bytes, as a socket might deliver it.
std::vector<SseEvent> parse_in_pieces(std::string_view stream, std::size_t piece) {
  SseParser parser;
  std::vector<SseEvent> events;
  for (std::size_t offset = 0; offset < stream.size(); offset += piece) {
    REQUIRE(parser.feed(stream.substr(offset, piece), events));
  }
  return events;
}

SseEvent event(std::string type, std::string data, std::string id = {}) {
  SseEvent e;
  e.type = std::move(type);
  e.data = std::move(data);
  e.id = std::move(id);
  return e;
}

}  // namespace

TEST_CASE("OpenAI chat completion chunks parse as message events ending with DONE") {
  const std::string stream =
      "data: "
      "{\"id\":\"chatcmpl-1\",\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\"}}]"
      "}\n\n"
      "data: {\"id\":\"chatcmpl-1\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hel\"}}]}\n\n"
      "data: {\"id\":\"chatcmpl-1\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"lo\"}}]}\n\n"
      "data: [DONE]\n\n";
  const auto events = parse_whole(stream);
  REQUIRE(events.size() == 4);
  CHECK(events[0].type == "message");
  CHECK(events[1].data ==
        "{\"id\":\"chatcmpl-1\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hel\"}}]}");
  CHECK(events[3].data == "[DONE]");
}

TEST_CASE("Anthropic named events, pings included, parse with their types") {
  const std::string stream =
      "event: message_start\ndata: {\"type\":\"message_start\"}\n\n"
      "event: ping\ndata: {\"type\": \"ping\"}\n\n"
      "event: content_block_delta\r\ndata: "
      "{\"type\":\"content_block_delta\",\"delta\":{\"text\":\"Hi\"}}\r\n\r\n"
      "event: message_stop\rdata: {\"type\":\"message_stop\"}\r\r";
  const auto events = parse_whole(stream);
  REQUIRE(events.size() == 4);
  CHECK(events[0] == event("message_start", "{\"type\":\"message_start\"}"));
  CHECK(events[1].type == "ping");
  CHECK(events[2] ==
        event("content_block_delta", "{\"type\":\"content_block_delta\",\"delta\":{\"text\":\"Hi\"}}"));
  CHECK(events[3] == event("message_stop", "{\"type\":\"message_stop\"}"));
}

TEST_CASE("every split of a stream into reads gives the same events") {
  const std::string stream =
      "\xEF\xBB\xBF: comment first\r\n"
      "event: a\r\ndata: one\r\ndata:two\r\nid: 7\r\n\r\n"
      "data: three\n\n"
      ": keep-alive\n\n"
      "event: b\rdata: four\r\r";
  const auto expected = parse_whole(stream);
  REQUIRE(expected.size() == 3);
  CHECK(expected[0] == event("a", "one\ntwo", "7"));
  CHECK(expected[1] == event("message", "three", "7"));  // the id persists until changed
  CHECK(expected[2] == event("b", "four", "7"));
  for (std::size_t piece = 1; piece <= stream.size(); ++piece) {
    INFO("piece size " << piece);
    CHECK(parse_in_pieces(stream, piece) == expected);
  }
}

TEST_CASE("a \\r\\n split between two reads ends one line, not two") {
  SseParser parser;
  std::vector<SseEvent> events;
  REQUIRE(parser.feed("data: x\r", events));
  REQUIRE(parser.feed("\n\r", events));
  REQUIRE(parser.feed("\n", events));
  REQUIRE(events.size() == 1);
  CHECK(events[0].data == "x");
}

TEST_CASE("field syntax follows the specification") {
  SECTION("only one leading space is stripped from a value") {
    CHECK(parse_whole("data:  two spaces\n\n")[0].data == " two spaces");
  }
  SECTION("a field name without a colon has an empty value") {
    const auto events = parse_whole("data\ndata\n\n");
    REQUIRE(events.size() == 1);
    CHECK(events[0].data == "\n");
  }
  SECTION("values may contain colons") {
    CHECK(parse_whole("data: a:b:c\n\n")[0].data == "a:b:c");
  }
  SECTION("unknown fields are ignored") {
    CHECK(parse_whole("foo: bar\ndata: x\n\n")[0] == event("message", "x"));
  }
  SECTION("an event without data is not dispatched and its type does not leak into the next") {
    const auto events = parse_whole("event: lonely\n\ndata: x\n\n");
    REQUIRE(events.size() == 1);
    CHECK(events[0].type == "message");
  }
  SECTION("retry takes digits only") {
    CHECK(parse_whole("retry: 1500\ndata: x\n\n")[0].retry_ms == 1500);
    CHECK_FALSE(parse_whole("retry: 15s\ndata: x\n\n")[0].retry_ms.has_value());
  }
  SECTION("comments are counted, not dispatched") {
    SseParser parser;
    std::vector<SseEvent> events;
    REQUIRE(parser.feed(": ping\n: ping\n\n", events));
    CHECK(events.empty());
    CHECK(parser.comments_seen() == 2);
  }
}

TEST_CASE("an unfinished event at the end of the stream is reported as partial, not dispatched") {
  SseParser parser;
  std::vector<SseEvent> events;
  REQUIRE(parser.feed("data: complete\n\ndata: cut off mid", events));
  CHECK(events.size() == 1);
  CHECK(parser.has_partial_event());
  REQUIRE(parser.feed("\n", events));
  CHECK(parser.has_partial_event());  // a data line without the blank line that ends the event
  REQUIRE(parser.feed("\n", events));
  CHECK_FALSE(parser.has_partial_event());
  CHECK(events.size() == 2);
}

TEST_CASE("an event over the size limit fails the parser instead of growing without bound") {
  SseParser parser(64);
  std::vector<SseEvent> events;
  CHECK(parser.feed("data: small\n\n", events));
  CHECK_FALSE(parser.feed("data: " + std::string(100, 'x'), events));
  CHECK(parser.failed());
  CHECK_FALSE(parser.feed("data: more\n\n", events));
  CHECK(events.size() == 1);

  SseParser many_lines(64);
  std::vector<SseEvent> ignored;
  bool ok = true;
  for (int i = 0; i < 20 && ok; ++i) ok = many_lines.feed("data: 0123456789\n", ignored);
  CHECK_FALSE(ok);
}

}  // namespace rally::llm_proxy
