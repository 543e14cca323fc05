// What the OpenAI and Anthropic codec tests check alike: request bodies as JSON (their keys in order, their
// messages), whole answers, bodies that are no answer, and decoded streams (complete, split anywhere, broken
// before any text).
#pragma once

#include <boost/json.hpp>
#include <catch2/catch.hpp>
#include <cstddef>
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "services/llm-proxy/provider/provider_wire.h"
#include "tests/unit/llm-proxy/provider/decoded_stream.h"

namespace rally::llm_proxy::testing {

// The keys of `object`, in the order the codec wrote them.
inline std::vector<std::string> keys_of(const boost::json::object& object) {
  std::vector<std::string> keys;
  for (const auto& [key, value] : object) keys.emplace_back(key);
  return keys;
}

// A "messages" array of {"role", "content"} objects.
inline boost::json::array messages(std::initializer_list<std::pair<const char*, const char*>> turns) {
  boost::json::array list;
  for (const auto& [role, content] : turns)
    list.push_back(boost::json::object{{"role", role}, {"content", content}});
  return list;
}

inline void check_finish(const ProviderFinish& actual, const ProviderFinish& expected) {
  CHECK(actual.reason == expected.reason);
  CHECK(actual.usage == expected.usage);
  CHECK(actual.upstream_id == expected.upstream_id);
}

// `result` is an answer with `text` and `finish`.
inline void check_answer(const AnswerOrFailure& result, std::string_view text, const ProviderFinish& finish) {
  REQUIRE(std::holds_alternative<ProviderAnswer>(result));
  const auto& answer = std::get<ProviderAnswer>(result);
  CHECK(answer.text == text);
  check_finish(answer.finish, finish);
}

// `parse` (a whole-response parser) makes a kProtocolError of each of `bodies`.
template <typename Parse>
void check_protocol_errors(Parse parse, std::initializer_list<std::string_view> bodies) {
  for (const std::string_view body : bodies) {
    INFO(body);
    const AnswerOrFailure result = parse(body);
    REQUIRE(std::holds_alternative<ProviderFailure>(result));
    CHECK(std::get<ProviderFailure>(result).kind == FailureKind::kProtocolError);
  }
}

// The stream ended with its final event and no failure, having passed on `deltas` and gathered `finish`.
inline void check_complete(const DecodedStream& decoded, const std::vector<std::string>& deltas,
                           const ProviderFinish& finish) {
  CHECK(decoded.deltas == deltas);
  CHECK_FALSE(decoded.failure);
  CHECK(decoded.finished);
  check_finish(decoded.finish, finish);
}

// `bytes` fed in pieces of every size from 1 to `largest_piece` bytes decode to the same text and usage as
// fed whole, and to the end.
template <typename Decoder>
void check_split_anywhere(std::string_view bytes, std::size_t largest_piece = 17) {
  const DecodedStream whole = decode_stream<Decoder>(bytes);
  for (std::size_t piece = 1; piece <= largest_piece; ++piece) {
    INFO("pieces of " << piece << " bytes");
    const DecodedStream split = decode_stream<Decoder>(bytes, piece);
    CHECK(split.text() == whole.text());
    CHECK(split.finished);
    CHECK(split.finish.usage == whole.finish.usage);
  }
}

// The failure decoding `bytes` ends in, which must come before any text and before the final event.
template <typename Decoder>
ProviderFailure failure_before_text(std::string_view bytes) {
  const DecodedStream decoded = decode_stream<Decoder>(bytes);
  REQUIRE(decoded.failure);
  CHECK(decoded.deltas.empty());
  CHECK_FALSE(decoded.finished);
  return *decoded.failure;
}

}  // namespace rally::llm_proxy::testing
