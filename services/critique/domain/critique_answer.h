// The oracle's answer as the critic contract stores it, read back into a score and a description. Models
// answer "plain JSON" loosely: in code fences, after a sentence, with the score as a string ("7", "7/10")
// or out of range. Pure: no I/O.
#pragma once

#include <string>
#include <string_view>

#include "services/common/errors.h"

namespace rally::critique {

struct CritiqueAnswer {
  double score = 0;  // 0 to 10
  std::string description;
  bool clamped = false;  // the model gave a number outside 0-10, brought to the nearest bound
};

// Finds the first JSON object in `text` that has a "score" (skipping code fences and prose around it) and
// reads it:
// - score: a finite number, or a string holding one ("7", "7.5", " 8 ", "8/10"); outside 0-10 it is
//   clamped to the nearest bound (and `clamped` says so); anything else is an error;
// - description: a string (missing or null reads as ""; other types are an error), trimmed.
// Errors are kUpstreamError with a message that says what was wrong, for the caller's response.
common::Result<CritiqueAnswer> parse_critique_answer(std::string_view text);

}  // namespace rally::critique
