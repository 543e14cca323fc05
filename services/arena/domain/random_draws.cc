#include "services/arena/domain/random_draws.h"

#include <limits>
#include <stdexcept>

namespace rally::arena {

double uniform_unit(std::mt19937_64& random) {
  return static_cast<double>(random() >> 11) * 0x1.0p-53;
}

std::uint64_t uniform_below(std::uint64_t bound, std::mt19937_64& random) {
  if (bound == 0) throw std::invalid_argument("uniform_below: bound must be > 0");
  // 2^64 mod bound: the top `excess` engine outputs would favour small values, so they are drawn again.
  constexpr std::uint64_t kMax = std::numeric_limits<std::uint64_t>::max();
  const std::uint64_t excess = (kMax % bound + 1) % bound;
  for (;;) {
    const std::uint64_t value = random();
    if (value <= kMax - excess) return value % bound;
  }
}

bool fair_coin(std::mt19937_64& random) {
  return (random() >> 63) != 0;
}

}  // namespace rally::arena
