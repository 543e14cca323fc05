// How scores are shown: one decimal, the "(SC:X.X)" name suffix and the score labels.
//
// Rounding (docs/scoring.md, "Rounding"): a double such as 8.55 is really 8.5499999999999998224..., so
// printf("%.1f") gives "8.5" while a reader expects "8.6". We round the shortest decimal string that reads
// back as the same double ("8.55", from std::to_chars) half away from zero to one decimal: 8.55 -> 8.6, 8.54
// -> 8.5, 9.95 -> 10.0, 0.05 -> 0.1. The result depends only on the double, so it is deterministic.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace rally::scoring {

// One decimal as text ("8.6", "10.0", "-0.5"); "nan", "inf" or "-inf" for those. Never "-0.0".
std::string format_one_decimal(double value);
// The value of format_one_decimal as a double (the closest double to it); non-finite values unchanged.
double round_to_tenth(double value);

// NaN -> 0, otherwise clamped to [0, 10].
double clamp_score(double score);
// True for a finite score in [0, 10].
bool is_valid_score(double score);

// "(SC:8.6)" of clamp_score(score), rounded as above.
std::string score_suffix(double score);

// The name without a trailing suffix: what `\s*\(SC:\d+\.\d+\)\s*$` matches is removed (digits are ASCII,
// \s is space, \t, \n, \v, \f or \r). Only the last suffix goes: "A (SC:1.0) (SC:2.0)" -> "A (SC:1.0)".
std::string strip_suffix(std::string_view name);
// The score in a trailing suffix, if the name has one.
std::optional<double> parse_suffix(std::string_view name);
// strip_suffix(name) without its trailing whitespace, a space, then score_suffix(score); just the suffix when
// that leaves nothing. "GPT-4 (SC:7.0)" with 8.55 -> "GPT-4 (SC:8.6)".
std::string add_suffix(std::string_view name, double score);

// >= 9 Exceptional, >= 8 Excellent, >= 7 Very Good, >= 6 Good, >= 5 Average, >= 4 Below Average, >= 3 Poor,
// else (and NaN) Unacceptable. Applied to the score as given (callers pass the rounded score they show).
std::string_view score_label(double score);

}  // namespace rally::scoring
