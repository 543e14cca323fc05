// JSON text as people read it. Boost.JSON writes every double with an exponent ("8.5E0", "1.2E3"): valid,
// but not what the suite's specifications show. json_text writes the same compact JSON except that a double
// is the shortest decimal that reads back to the same value ("8.5", "0.001"), a whole one with ".0"
// ("1200.0": still a double to parsers that type numbers), and a non-finite double, which JSON cannot
// hold, is null.
#pragma once

#include <boost/json/fwd.hpp>
#include <string>

namespace rally::common {

std::string json_text(const boost::json::value& value);
std::string json_text(const boost::json::object& object);
std::string json_text(const boost::json::array& array);

}  // namespace rally::common
