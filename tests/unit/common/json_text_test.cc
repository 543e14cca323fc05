#include "services/common/json_text.h"

#include <boost/json.hpp>
#include <catch2/catch.hpp>
#include <limits>

namespace rally::common {
namespace {

namespace json = boost::json;

TEST_CASE("Doubles are written in their shortest decimal form, without exponents where none is needed") {
  CHECK(json_text(json::value(8.5)) == "8.5");
  CHECK(json_text(json::value(8.55)) == "8.55");
  CHECK(json_text(json::value(1200.0)) == "1200.0");  // still a double when read back
  CHECK(json::parse(json_text(json::value(1200.0))).is_double());
  CHECK(json_text(json::value(0.0)) == "0.0");
  CHECK(json_text(json::value(0.001)) == "0.001");
  CHECK(json_text(json::value(-3.25)) == "-3.25");
  CHECK(json_text(json::value(0.1 + 0.2)) == "0.30000000000000004");  // the value, not a rounded look
  CHECK(json_text(json::value(1e21)) == "1e+21");
  CHECK(json::parse(json_text(json::value(1e-300))).as_double() == 1e-300);  // reads back exactly
}

TEST_CASE("Non-finite doubles become null, since JSON has no form for them") {
  CHECK(json_text(json::value(std::numeric_limits<double>::infinity())) == "null");
  CHECK(json_text(json::value(std::numeric_limits<double>::quiet_NaN())) == "null");
}

TEST_CASE("Everything else is Boost.JSON's compact form, strings escaped") {
  const json::value value =
      json::parse(R"({"name":"gpt \"4\"\n","ok":true,"none":null,"count":-7,"big":18446744073709551615,)"
                  R"("list":[1,2.5,"x",{"nested":[]}],"empty":{}})");
  CHECK(json_text(value) ==
        R"({"name":"gpt \"4\"\n","ok":true,"none":null,"count":-7,"big":18446744073709551615,)"
        R"("list":[1,2.5,"x",{"nested":[]}],"empty":{}})");
  CHECK(json_text(json::object{{"score", 9.2}}) == R"({"score":9.2})");
  CHECK(json_text(json::array{0.5, "é", 2.0}) == "[0.5,\"é\",2.0]");
  CHECK(json::parse(json_text(value)) == value);
}

}  // namespace
}  // namespace rally::common
