// Small Catch2 helpers shared by tests.
#pragma once

#include <catch2/catch.hpp>
#include <string>

namespace rally::testing {

// The message of the E that `run` throws; anything else it throws fails the test as is, and so does
// throwing nothing.
template <typename E, typename Run>
std::string message_of(Run run) {
  try {
    run();
  } catch (const E& e) {
    return e.what();
  }
  FAIL("the expected exception was not thrown");
  return {};
}

}  // namespace rally::testing
