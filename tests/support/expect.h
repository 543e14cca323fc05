// Small Catch2 helpers shared by tests.
#pragma once

#include <catch2/catch.hpp>
#include <string>

#include "services/common/config.h"

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

// The key named by the ConfigError that `load` throws, or "(accepted)" when the value was accepted:
// settings tests check that each bad value is blamed on the right key.
template <typename Load>
std::string rejected_config_key(Load load) {
  try {
    load();
  } catch (const common::ConfigError& e) {
    return e.key();
  }
  return "(accepted)";
}

}  // namespace rally::testing
