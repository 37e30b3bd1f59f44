// A deterministic RandomSource for tests: the same seed gives the same bytes on every run.
#pragma once

#include <cstdint>
#include <mutex>

#include "domain/clock.h"

namespace todo::testing {

class SeededRandom final : public domain::RandomSource {
 public:
  explicit SeededRandom(std::uint64_t seed = 42) : state_(seed) {}

  // Thread-safe like the real source: a test may create tasks from several threads at once.
  void fill(std::span<std::byte> out) override {
    std::lock_guard lock(mutex_);
    for (std::byte& b : out) b = static_cast<std::byte>(next() >> 56);
  }

 private:
  // splitmix64
  std::uint64_t next() {
    std::uint64_t z = (state_ += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
  }

  std::mutex mutex_;
  std::uint64_t state_;
};

// Fills every byte with the same value: makes the random parts of an output predictable.
class ConstantRandom final : public domain::RandomSource {
 public:
  explicit ConstantRandom(std::byte value) : value_(value) {}
  void fill(std::span<std::byte> out) override {
    for (std::byte& b : out) b = value_;
  }

 private:
  std::byte value_;
};

}  // namespace todo::testing
