// A small file read whole (configuration, keys, deployment records), or nullopt when it cannot be opened.
#pragma once

#include <optional>
#include <string>

namespace rally::common {

std::optional<std::string> read_file_text(const std::string& path);

}  // namespace rally::common
