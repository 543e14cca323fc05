#include "services/common/utf8.h"

#include <catch2/catch.hpp>
#include <string>

namespace rally::common {

TEST_CASE("well-formed UTF-8 is accepted") {
  CHECK(is_valid_utf8(""));
  CHECK(is_valid_utf8("plain ascii"));
  CHECK(is_valid_utf8("caf\xC3\xA9"));                   // é, 2 bytes
  CHECK(is_valid_utf8("\xE2\x82\xAC"));                  // €, 3 bytes
  CHECK(is_valid_utf8("\xF0\x9F\x98\x80"));              // 😀, 4 bytes
  CHECK(is_valid_utf8("\xF4\x8F\xBF\xBF"));              // U+10FFFF, the last code point
  CHECK(is_valid_utf8(std::string("nul\0inside", 10)));  // NUL is valid UTF-8
}

TEST_CASE("malformed UTF-8 is found at its first bad byte") {
  CHECK(first_invalid_utf8("ok\x80") == 2);            // stray continuation byte
  CHECK(first_invalid_utf8("\xC0\xAF") == 0);          // overlong '/'
  CHECK(first_invalid_utf8("\xE0\x80\xAF") == 0);      // overlong 3-byte form
  CHECK(first_invalid_utf8("\xED\xA0\x80") == 0);      // UTF-16 surrogate
  CHECK(first_invalid_utf8("\xF4\x90\x80\x80") == 0);  // above U+10FFFF
  CHECK(first_invalid_utf8("ab\xE2\x82") == 2);        // truncated at the end
  CHECK(first_invalid_utf8("\xFF") == 0);
  CHECK(first_invalid_utf8("\xE2\x28\xA1") == 0);  // bad continuation
}

TEST_CASE("repair replaces each bad byte with U+FFFD and keeps the rest") {
  CHECK(repair_utf8("caf\xC3\xA9") == "caf\xC3\xA9");
  CHECK(repair_utf8("a\x80z") == "a\xEF\xBF\xBDz");
  CHECK(repair_utf8("\xE2\x82") == "\xEF\xBF\xBD\xEF\xBF\xBD");
  CHECK(is_valid_utf8(repair_utf8("\xC0\xAF\xED\xA0\x80\xF5 tail")));
}

}  // namespace rally::common
