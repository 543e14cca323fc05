// Draws from a std::mt19937_64 that do not depend on the standard library: the engine's output sequence is
// fixed by the C++ standard, but std::uniform_*_distribution are not, so these are built from raw outputs.
// A seed therefore gives the same pairs and the same bootstrap intervals on every platform and compiler.
#pragma once

#include <cstdint>
#include <random>

namespace rally::arena {

// Uniform in [0, 1), with 53 random bits (one engine output).
double uniform_unit(std::mt19937_64& random);
// Uniform in [0, bound) without modulo bias (rejection sampling); bound must be > 0.
std::uint64_t uniform_below(std::uint64_t bound, std::mt19937_64& random);
// True or false with probability 1/2 each (the top bit of one engine output).
bool fair_coin(std::mt19937_64& random);

}  // namespace rally::arena
