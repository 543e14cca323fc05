// Runs a stream decoder over raw text/event-stream bytes the way HttpProviderClient does (SseParser, then
// the decoder event by event), fed in pieces of a given size, and records what came out.
#pragma once

#include <algorithm>
#include <cstddef>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "services/llm-proxy/domain/sse_parser.h"
#include "services/llm-proxy/provider/provider_wire.h"

namespace rally::llm_proxy::testing {

struct DecodedStream {
  std::vector<std::string> deltas;
  std::optional<ProviderFailure> failure;
  bool finished = false;
  ProviderFinish finish;
  std::size_t events_after_end = 0;  // events the stream still held after the failure or final event

  std::string text() const {
    std::string all;
    for (const std::string& delta : deltas) all += delta;
    return all;
  }
};

template <typename Decoder>
DecodedStream decode_stream(std::string_view bytes,
                            std::size_t piece_size = std::numeric_limits<std::size_t>::max()) {
  Decoder decoder;
  SseParser parser;
  DecodedStream result;
  std::vector<SseEvent> events;
  for (std::size_t offset = 0; offset < bytes.size(); offset += piece_size) {
    parser.feed(bytes.substr(offset, std::min(piece_size, bytes.size() - offset)), events);
    for (const SseEvent& event : events) {
      if (result.failure || result.finished) {
        ++result.events_after_end;
        continue;
      }
      StreamStep step = decoder.decode(event);
      if (!step.text.empty()) result.deltas.push_back(step.text);
      if (step.failure) result.failure = std::move(step.failure);
      result.finished = decoder.finished();
    }
    events.clear();
  }
  result.finish = decoder.finish();
  return result;
}

}  // namespace rally::llm_proxy::testing
