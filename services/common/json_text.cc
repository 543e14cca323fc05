#include "services/common/json_text.h"

#include <boost/json.hpp>
#include <charconv>
#include <cmath>
#include <string_view>

namespace rally::common {
namespace {

void append(std::string& out, const boost::json::value& value);

void append_string(std::string& out, boost::json::string_view text) {
  out += boost::json::serialize(text);
}

void append_double(std::string& out, double number) {
  if (!std::isfinite(number)) {
    out += "null";
    return;
  }
  char digits[32];
  const auto written = std::to_chars(digits, digits + sizeof digits, number);
  out.append(digits, written.ptr);
  // A whole number keeps a fraction, so that parsers that type numbers (Python, serde) still read a double.
  if (std::string_view(digits, static_cast<std::size_t>(written.ptr - digits)).find_first_of(".e") ==
      std::string_view::npos) {
    out += ".0";
  }
}

void append_object(std::string& out, const boost::json::object& object) {
  out += '{';
  bool first = true;
  for (const auto& [key, member] : object) {
    if (!first) out += ',';
    first = false;
    append_string(out, key);
    out += ':';
    append(out, member);
  }
  out += '}';
}

void append_array(std::string& out, const boost::json::array& array) {
  out += '[';
  bool first = true;
  for (const boost::json::value& element : array) {
    if (!first) out += ',';
    first = false;
    append(out, element);
  }
  out += ']';
}

void append(std::string& out, const boost::json::value& value) {
  switch (value.kind()) {
    case boost::json::kind::object:
      return append_object(out, value.get_object());
    case boost::json::kind::array:
      return append_array(out, value.get_array());
    case boost::json::kind::string:
      return append_string(out, value.get_string());
    case boost::json::kind::double_:
      return append_double(out, value.get_double());
    default:  // null, bool, int64, uint64: Boost.JSON's own form is already the usual one
      out += boost::json::serialize(value);
  }
}

}  // namespace

std::string json_text(const boost::json::value& value) {
  std::string out;
  append(out, value);
  return out;
}

std::string json_text(const boost::json::object& object) {
  std::string out;
  append_object(out, object);
  return out;
}

std::string json_text(const boost::json::array& array) {
  std::string out;
  append_array(out, array);
  return out;
}

}  // namespace rally::common
