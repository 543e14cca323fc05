// A fresh directory under /tmp for one test, removed with everything in it when the test is done.
#pragma once

#include <stdlib.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <string>

namespace rally::testing {

class TemporaryDirectory {
 public:
  explicit TemporaryDirectory(const std::string& prefix = "rally-test-") {
    std::string pattern = "/tmp/" + prefix + "XXXXXX";  // /tmp keeps Unix socket paths short
    if (::mkdtemp(pattern.data()) == nullptr) FAIL("mkdtemp failed for " << pattern);
    path_ = pattern;
  }
  ~TemporaryDirectory() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  TemporaryDirectory(const TemporaryDirectory&) = delete;
  TemporaryDirectory& operator=(const TemporaryDirectory&) = delete;

  const std::filesystem::path& path() const { return path_; }
  std::string file(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

}  // namespace rally::testing
