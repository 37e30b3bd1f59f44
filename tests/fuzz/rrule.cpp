// Recurrence rules: the RRULE parser and its canonical form (domain/recurrence_rule.h), and the
// expansion (domain/recurrence.h) of the rule from fixed anchors in fixed zones: a timed task on
// the day Berlin springs forward (its due time in the gap), an all-day one on 31 January in New
// York, and a timed one in Chatham (a 45-minute offset) repeating from completions.
// Properties: nothing crashes or leaks; the canonical text of a rule parses to the same canonical
// text, and normalising a stored recurrence changes nothing; a series is visited in ascending wall
// time, and a preview has at most the occurrences asked for, each later than the one before.
#include <cstddef>
#include <cstdio>
#include <cstdint>
#include <string>
#include <string_view>

#include "domain/recurrence.h"
#include "domain/recurrence_rule.h"
#include "domain/task.h"
#include "fuzz_support.h"

namespace {

using namespace todo;

constexpr int kWalked = 40;   // elements of a series visited
constexpr int kPreview = 10;  // occurrences previewed

struct Setup {
  const char* zone;
  domain::LocalDateTime due;
  bool all_day;
  domain::RecurrenceMode mode;
};

const Setup kSetups[] = {
    {"Europe/Berlin", {2026, 3, 29, 2, 30, 0, 0}, false, domain::RecurrenceMode::kDue},
    {"America/New_York", {2026, 1, 31, 0, 0, 0, 0}, true, domain::RecurrenceMode::kStrict},
    {"Pacific/Chatham", {2026, 4, 5, 2, 45, 0, 0}, false, domain::RecurrenceMode::kCompletion},
};

void check_canonical(std::string_view text) {
  const auto rule = domain::parse_rrule(text);
  if (rule) {
    const std::string canonical = domain::to_string(*rule);
    const auto again = domain::parse_rrule(canonical);
    FUZZ_CHECK(again.has_value());
    FUZZ_CHECK(domain::to_string(*again) == canonical);
  } else {
    FUZZ_CHECK(!rule.error().fields.empty() && rule.error().fields[0].field == "recurrence");
  }
}

void expand(const std::string& recurrence, const Setup& setup) {
  const domain::TimeZone& zone = fuzz::zones().zone(setup.zone);

  const auto plan = domain::plan_series(recurrence, setup.due, setup.all_day);
  if (!plan) return;
  int visited = 0;
  std::optional<domain::LocalDateTime> previous;
  domain::walk_series(*plan, zone, [&](const domain::Occurrence& o) {
    if (previous) FUZZ_CHECK(*previous < o.local);
    previous = o.local;
    return ++visited < kWalked;
  });

  domain::Task task;
  task.id = task.user_id = "0193a4b2-7c1d-7e3f-8a9b-0c1d2e3f4a5b";
  task.title = "Recurring";
  task.timezone = setup.zone;
  task.recurrence = recurrence;
  task.recurrence_mode = setup.mode;
  task.all_day = setup.all_day;
  task.due_at = zone.to_utc(setup.due);
  task.series_id = task.id;
  task = domain::anchor_series(task, nullptr, fuzz::zones());

  const auto preview = domain::upcoming_occurrences(task, fuzz::kNow, zone, kPreview);
  if (!preview) return;
  FUZZ_CHECK(preview->occurrences.size() <= static_cast<std::size_t>(kPreview));
  for (std::size_t i = 1; i < preview->occurrences.size(); ++i) {
    FUZZ_CHECK(preview->occurrences[i - 1].at < preview->occurrences[i].at);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text = fuzz::as_text(data, size);
  check_canonical(text);

  const auto stored = domain::normalize_recurrence(text);
  if (!stored || !stored->has_value()) return 0;
  const std::string& recurrence = **stored;
  const auto again = domain::normalize_recurrence(recurrence);
  FUZZ_CHECK(again.has_value() && again->has_value() && **again == recurrence);
  FUZZ_CHECK(!domain::summarize_recurrence(recurrence).rrule.empty());

  for (const Setup& setup : kSetups) expand(recurrence, setup);
  return 0;
}
