// Header fields of a request or response, in arrival order. Names compare case-insensitively
// (RFC 9110 section 5.1); a name may repeat (Set-Cookie).
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace rally::gateway::http {

class Headers {
 public:
  using Field = std::pair<std::string, std::string>;
  using const_iterator = std::vector<Field>::const_iterator;

  Headers() = default;
  Headers(std::initializer_list<Field> fields) : fields_(fields) {}

  // The first value of `name`, nullopt when absent.
  std::optional<std::string_view> get(std::string_view name) const;
  bool contains(std::string_view name) const { return get(name).has_value(); }
  // Replaces every field called `name` with one field.
  void set(std::string name, std::string value);
  // Appends a field, keeping earlier ones with the same name.
  void add(std::string name, std::string value);

  const_iterator begin() const { return fields_.begin(); }
  const_iterator end() const { return fields_.end(); }
  std::size_t size() const { return fields_.size(); }
  bool empty() const { return fields_.empty(); }

 private:
  std::vector<Field> fields_;
};

// ASCII case-insensitive equality, as header names and tokens require.
bool iequals(std::string_view a, std::string_view b);

}  // namespace rally::gateway::http
