// The recurring service's state per series (recurrence_series): the newest occurrence it made and
// whether the series ended.
#pragma once

#include "domain/clock.h"
#include "store/database.h"

#include <cstdint>
#include <optional>
#include <string_view>

namespace todo::store {

struct SeriesState {
  std::int64_t last_index = 0;
  bool ended = false;
};

class RecurrenceSeriesRepository {
 public:
  std::optional<SeriesState> find(Transaction& s, std::string_view series_id) const;
  // The series now has an occurrence with this index (its newest).
  void advance(Transaction& s, std::string_view series_id, std::int64_t last_index,
               domain::Timestamp now) const;
  // No occurrence follows `last_index` any more.
  void end(Transaction& s, std::string_view series_id, std::int64_t last_index,
           domain::Timestamp now) const;
};

}  // namespace todo::store
