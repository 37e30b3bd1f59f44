// SQL of recurrence_series.
#include "store/recurrence_series_repository.h"

#include "store/sql_values.h"

namespace todo::store {
namespace {

constexpr std::string_view kFind =
    "SELECT last_index, ended_at IS NOT NULL FROM recurrence_series WHERE series_id = $1";
constexpr std::string_view kAdvance =
    "INSERT INTO recurrence_series (series_id, last_index, ended_at, updated_at) "
    "VALUES ($1, $2, NULL, $3) ON CONFLICT (series_id) DO UPDATE SET "
    "last_index = excluded.last_index, updated_at = excluded.updated_at";
constexpr std::string_view kEnd =
    "INSERT INTO recurrence_series (series_id, last_index, ended_at, updated_at) "
    "VALUES ($1, $2, $3, $3) ON CONFLICT (series_id) DO UPDATE SET "
    "ended_at = excluded.ended_at, updated_at = excluded.updated_at";

}  // namespace

std::optional<SeriesState> RecurrenceSeriesRepository::find(Transaction& s,
                                                            std::string_view series_id) const {
  auto row = s.query_one(kFind, {sql::text(series_id)});
  if (!row) return std::nullopt;
  return SeriesState{row->integer(0), row->integer(1) != 0};
}

void RecurrenceSeriesRepository::advance(Transaction& s, std::string_view series_id,
                                         std::int64_t last_index, domain::Timestamp now) const {
  s.execute(kAdvance, {sql::text(series_id), last_index, sql::micros(now)});
}

void RecurrenceSeriesRepository::end(Transaction& s, std::string_view series_id,
                                     std::int64_t last_index, domain::Timestamp now) const {
  s.execute(kEnd, {sql::text(series_id), last_index, sql::micros(now)});
}

}  // namespace todo::store
