#include "services/scoring/domain/score_format.h"

#include <catch2/catch.hpp>
#include <cmath>
#include <limits>

namespace rally::scoring {
namespace {

TEST_CASE("One decimal rounds the shortest decimal form half away from zero") {
  // 8.55 is 8.5499999999999998224 as a double: printf("%.1f") says 8.5, the rule says 8.6.
  CHECK(format_one_decimal(8.55) == "8.6");
  CHECK(format_one_decimal(8.54) == "8.5");
  CHECK(format_one_decimal(8.549999999) == "8.5");
  CHECK(format_one_decimal(9.95) == "10.0");
  CHECK(format_one_decimal(9.94) == "9.9");
  CHECK(format_one_decimal(0.05) == "0.1");
  CHECK(format_one_decimal(0.04) == "0.0");
  CHECK(format_one_decimal(0.15) == "0.2");
  CHECK(format_one_decimal(0.25) == "0.3");
  CHECK(format_one_decimal(1.45) == "1.5");
  CHECK(format_one_decimal(2.675) == "2.7");
  CHECK(format_one_decimal(10) == "10.0");
  CHECK(format_one_decimal(0) == "0.0");
  CHECK(format_one_decimal(-0.0) == "0.0");
  CHECK(format_one_decimal(-0.04) == "0.0");
  CHECK(format_one_decimal(-0.05) == "-0.1");
  CHECK(format_one_decimal(99.96) == "100.0");
  CHECK(format_one_decimal(1e-300) == "0.0");
  CHECK(format_one_decimal(1e20) == "100000000000000000000.0");
  CHECK(format_one_decimal(std::numeric_limits<double>::quiet_NaN()) == "nan");
  CHECK(format_one_decimal(std::numeric_limits<double>::infinity()) == "inf");
}

TEST_CASE("round_to_tenth gives the double of the rounded text") {
  CHECK(round_to_tenth(8.55) == 8.6);
  CHECK(round_to_tenth(8.54) == 8.5);
  CHECK(round_to_tenth(9.95) == 10.0);
  CHECK(round_to_tenth(0.05) == 0.1);
  CHECK(round_to_tenth(7.0) == 7.0);
  // Every tenth and every hundredth between 0 and 10 rounds as its decimal text says.
  for (int hundredths = 0; hundredths <= 1000; ++hundredths) {
    const double value = hundredths / 100.0;
    const int tenths = (hundredths + 5) / 10;
    INFO(value);
    CHECK(round_to_tenth(value) == tenths / 10.0);
  }
}

TEST_CASE("Suffix formatting clamps to the score range") {
  CHECK(score_suffix(8.5) == "(SC:8.5)");
  CHECK(score_suffix(8.55) == "(SC:8.6)");
  CHECK(score_suffix(8.54) == "(SC:8.5)");
  CHECK(score_suffix(9.95) == "(SC:10.0)");
  CHECK(score_suffix(0.05) == "(SC:0.1)");
  CHECK(score_suffix(10) == "(SC:10.0)");
  CHECK(score_suffix(12) == "(SC:10.0)");
  CHECK(score_suffix(-3) == "(SC:0.0)");
  CHECK(score_suffix(std::numeric_limits<double>::quiet_NaN()) == "(SC:0.0)");
  CHECK(is_valid_score(0));
  CHECK(is_valid_score(10));
  CHECK_FALSE(is_valid_score(10.01));
  CHECK_FALSE(is_valid_score(-0.01));
  CHECK_FALSE(is_valid_score(std::numeric_limits<double>::infinity()));
}

TEST_CASE("add_suffix appends or replaces the trailing suffix") {
  CHECK(add_suffix("GPT-4", 8.5) == "GPT-4 (SC:8.5)");
  CHECK(add_suffix("GPT-4 (SC:7.0)", 8.55) == "GPT-4 (SC:8.6)");
  CHECK(add_suffix("GPT-4(SC:7.0)", 8.5) == "GPT-4 (SC:8.5)");
  CHECK(add_suffix("GPT-4 \t(SC:10.0)  \n", 9.95) == "GPT-4 (SC:10.0)");
  CHECK(add_suffix("GPT-4   ", 1) == "GPT-4 (SC:1.0)");
  CHECK(add_suffix("", 8.5) == "(SC:8.5)");
  CHECK(add_suffix("(SC:3.0)", 8.5) == "(SC:8.5)");
  // Parentheses that are not a suffix stay.
  CHECK(add_suffix("Llama 3 (70B)", 6.9) == "Llama 3 (70B) (SC:6.9)");
  CHECK(add_suffix("Model (SC:8)", 6.9) == "Model (SC:8) (SC:6.9)");
  CHECK(add_suffix("Model (SC:.5)", 6.9) == "Model (SC:.5) (SC:6.9)");
  CHECK(add_suffix("Model (sc:8.5)", 6.9) == "Model (sc:8.5) (SC:6.9)");
  CHECK(add_suffix("Model (SC:8.5) beta", 6.9) == "Model (SC:8.5) beta (SC:6.9)");
  // Only the last suffix is replaced, as the pattern anchors at the end once.
  CHECK(add_suffix("A (SC:1.0) (SC:2.0)", 3) == "A (SC:1.0) (SC:3.0)");
  // Adding twice is the same as adding once.
  CHECK(add_suffix(add_suffix("Claude (Sonnet)", 7.25), 7.25) == "Claude (Sonnet) (SC:7.3)");
}

TEST_CASE("strip_suffix and parse_suffix") {
  CHECK(strip_suffix("GPT-4 (SC:8.5)") == "GPT-4");
  CHECK(strip_suffix("GPT-4 (SC:8.5) ") == "GPT-4");
  CHECK(strip_suffix("GPT-4") == "GPT-4");
  CHECK(strip_suffix("GPT-4 (SC:8.5)x") == "GPT-4 (SC:8.5)x");
  CHECK(strip_suffix("(SC:12.34)") == "");
  CHECK(parse_suffix("GPT-4 (SC:8.5)") == 8.5);
  CHECK(parse_suffix("GPT-4 (SC:12.34)\n") == 12.34);
  CHECK_FALSE(parse_suffix("GPT-4 (SC:8)"));
  CHECK_FALSE(parse_suffix("GPT-4 (SC: 8.5)"));
  CHECK_FALSE(parse_suffix("GPT-4"));
  CHECK_FALSE(parse_suffix(")"));
  CHECK_FALSE(parse_suffix(""));
}

TEST_CASE("Score labels at each threshold") {
  CHECK(score_label(10) == "Exceptional");
  CHECK(score_label(9.0) == "Exceptional");
  CHECK(score_label(8.9) == "Excellent");
  CHECK(score_label(8.0) == "Excellent");
  CHECK(score_label(7.0) == "Very Good");
  CHECK(score_label(6.0) == "Good");
  CHECK(score_label(5.0) == "Average");
  CHECK(score_label(4.0) == "Below Average");
  CHECK(score_label(3.0) == "Poor");
  CHECK(score_label(2.9) == "Unacceptable");
  CHECK(score_label(0) == "Unacceptable");
  CHECK(score_label(std::numeric_limits<double>::quiet_NaN()) == "Unacceptable");
}

}  // namespace
}  // namespace rally::scoring
