"""The recurrence engine against an independent RRULE implementation, python3-dateutil's rrule.

Generates seeded random valid rules covering FREQ (DAILY to YEARLY), INTERVAL, BYDAY with and
without ordinals, BYMONTHDAY (negative ones too), BYMONTH, BYSETPOS, COUNT, UNTIL (a date, a wall
time, a UTC time), WKST, and some BYYEARDAY and BYWEEKNO; expands each with dateutil and with the
engine (tests/differential/recurrence_expand.cpp, in floating wall time) and fails on the first
difference, printing the rule. Run by ctest; see docs/adr/0009-recurrence.md.

Only rules both sides define identically are generated. Each exclusion says why:
- DTSTART is synchronised with the rule (it is the rule's first occurrence at or after a random
  start). RFC 5545 counts DTSTART as the first occurrence even when the rule does not produce it,
  dateutil does not; the engine follows the RFC (a task is due when it is due), so an
  unsynchronised DTSTART would differ by design.
- UNTIL given as a DATE with a timed DTSTART: the engine includes that whole local day (RFC 5545
  only allows a DATE-TIME there), so dateutil is given that day's last second.
- UNTIL with Z: the engine compares it as an instant in the task's zone; here the zone is UTC, so
  dateutil is given the same wall time without a zone (dateutil refuses an aware UNTIL with a
  naive DTSTART).
- BYWEEKNO only for weeks that lie inside one calendar year (see generate()), and only
  together with BYDAY: without BYDAY the engine takes DTSTART's weekday (RFC 5545:
  what the rule leaves open comes from DTSTART; libical refuses the rule otherwise), dateutil takes
  every day of the week.
- No BYHOUR, BYMINUTE, BYSECOND and no SECONDLY to HOURLY: the engine refuses frequencies below
  DAILY for tasks, and the time of day always comes from DTSTART in these rules.
- FREQ=WEEKLY with BYSETPOS only when DTSTART is the first candidate of its week: dateutil's first
  week starts at DTSTART, not at the start of the week, so BYSETPOS would count that week's
  candidates differently (the engine counts the whole week, as RFC 5545 does).
- A rule must have an occurrence within the bound (dateutil would otherwise search to year 9999).
"""

import argparse
import collections
import random
import subprocess
import sys
import warnings
from datetime import datetime, timedelta

try:
    from dateutil import rrule as du
except ImportError:  # pragma: no cover - the message is the point
    sys.exit("python3-dateutil is missing: run scripts/install-deps.sh (Debian package "
             "python3-dateutil)")

FREQS = {"DAILY": du.DAILY, "WEEKLY": du.WEEKLY, "MONTHLY": du.MONTHLY, "YEARLY": du.YEARLY}
WEEKDAYS = ["MO", "TU", "WE", "TH", "FR", "SA", "SU"]
DU_WEEKDAYS = [du.MO, du.TU, du.WE, du.TH, du.FR, du.SA, du.SU]
OCCURRENCES = 20      # compared per rule
HORIZON_YEARS = 60    # and none later than this many years after DTSTART

# dateutil warns that COUNT together with its own `until` bound is not RFC 5545; the bound only
# stops the search, the rule itself never has both.
warnings.filterwarnings("ignore", category=DeprecationWarning)


class Case:
    """One rule: its RRULE parts (in order) and the same rule as dateutil keyword arguments."""

    def __init__(self, freq):
        self.parts = [("FREQ", freq)]
        self.kwargs = {}
        self.freq = freq

    def add(self, name, text, key, value):
        self.parts.append((name, text))
        self.kwargs[key] = value

    def has(self, name):
        return any(n == name for n, _ in self.parts)

    def text(self):
        return ";".join(f"{n}={v}" for n, v in self.parts)


def pick_days(rng, freq, year_scoped, february_only=False):
    """BYDAY items: plain weekdays, or with an ordinal for MONTHLY and YEARLY."""
    names = rng.sample(range(7), rng.randint(1, 3))
    # All with ordinals or none: dateutil 2.8.2 intersects plain weekdays with ordinal ones
    # (MO,-1SA matches nothing) where RFC 5545 unites them.
    with_ordinals = freq in ("MONTHLY", "YEARLY") and rng.random() < 0.5
    items, values = [], []
    for d in names:
        ordinal = 0
        if with_ordinals:
            choices = [1, 2, 3, 4, 5, -1, -2, -3, -5]
            # Ordinals beyond the fifth week only where they count weeks of the year: dateutil
            # 2.8.2 raises IndexError for 52MO when BYMONTH scopes it to a month.
            if year_scoped:
                choices += [10, 20, 52, -10, -52]
            # The engine refuses a fifth weekday of February alone (once in 28 years: too rare).
            if february_only:
                choices = [c for c in choices if c not in (5, -5)]
            ordinal = rng.choice(choices)
        items.append(f"{ordinal}{WEEKDAYS[d]}" if ordinal else WEEKDAYS[d])
        values.append(DU_WEEKDAYS[d](ordinal) if ordinal else DU_WEEKDAYS[d])
    return ",".join(items), values


def generate(rng):
    freq = rng.choice(list(FREQS))
    case = Case(freq)
    if rng.random() < 0.45:
        n = rng.choice([2, 2, 3, 4, 5, 12])
        case.add("INTERVAL", str(n), "interval", n)
    if rng.random() < 0.3:
        months = sorted(set(rng.sample(range(1, 13), rng.randint(1, 4))))
        case.add("BYMONTH", ",".join(map(str, months)), "bymonth", months)
    if freq == "YEARLY" and rng.random() < 0.12:
        # Weeks that never cross the new year: whether a week crossing it belongs to the set of
        # the year it starts or ends in is left open by RFC 5545 (libical takes both sides), and
        # dateutil decides it for the previous year's last week with this year's length.
        weeks = sorted(set(rng.choice([2, 10, 20, 26, 40, 51, -2, -10, -26]) for _ in range(2)))
        case.add("BYWEEKNO", ",".join(map(str, weeks)), "byweekno", weeks)
    if freq == "YEARLY" and not case.has("BYWEEKNO") and rng.random() < 0.12:
        days = sorted(set(rng.choice([1, 32, 59, 60, 100, 200, 365, 366, -1, -2, -100, -366])
                          for _ in range(2)))
        case.add("BYYEARDAY", ",".join(map(str, days)), "byyearday", days)
    if freq != "WEEKLY" and rng.random() < 0.45:
        pool = [1, 2, 13, 15, 28, 29, 30, 31, -1, -2, -3, -28, -29, -30, -31]
        days = []
        for _ in range(rng.randint(1, 3)):
            d = rng.choice(pool)
            if d not in days:
                days.append(d)
        case.add("BYMONTHDAY", ",".join(map(str, days)), "bymonthday", days)
    if rng.random() < 0.5 or case.has("BYWEEKNO"):
        text, values = pick_days(rng, freq, freq == "YEARLY" and not case.has("BYMONTH"),
                                 case.kwargs.get("bymonth") in ([2], (2,), 2))
        if case.has("BYWEEKNO"):  # an ordinal is not allowed together with BYWEEKNO
            text = ",".join(t.lstrip("-0123456789") for t in text.split(","))
            values = [DU_WEEKDAYS[WEEKDAYS.index(t)] for t in text.split(",")]
        case.add("BYDAY", text, "byweekday", values)
    if any(n.startswith("BY") for n, _ in case.parts) and rng.random() < 0.35:
        # Positions a period can have: a day holds one candidate (no BYHOUR here), a week at most
        # as many as BYDAY names. Others never match, and dateutil would search to the bound.
        if freq == "DAILY":
            pool = [1, -1]
        elif freq == "WEEKLY":
            n = len(case.kwargs.get("byweekday", [None]))
            pool = list(range(1, n + 1)) + list(range(-n, 0))
        else:
            pool = [1, 2, 3, -1, -2, 5]
        positions = sorted(set(rng.choice(pool) for _ in range(rng.randint(1, 2))))
        case.add("BYSETPOS", ",".join(map(str, positions)), "bysetpos", positions)
    if rng.random() < 0.35:
        d = rng.randrange(7)
        case.add("WKST", WEEKDAYS[d], "wkst", DU_WEEKDAYS[d])
    return case


def random_start(rng, all_day):
    start = datetime(rng.randint(1995, 2040), rng.randint(1, 12), rng.randint(1, 28))
    if all_day:
        return start
    return start.replace(hour=rng.randint(0, 23), minute=rng.choice([0, 15, 30, 45]),
                         second=rng.choice([0, 0, 0, 30]))


def dateutil_rule(case, dtstart, bound, count=None, until=None):
    kwargs = dict(case.kwargs)
    kwargs["dtstart"] = dtstart
    kwargs["until"] = min(until, bound) if until else bound
    if count is not None:
        kwargs["count"] = count
    return du.rrule(FREQS[case.freq], **kwargs)


def first_of_its_week(case, dtstart, bound):
    """Whether nothing the rule (without BYSETPOS) gives in DTSTART's week comes before it.

    dateutil's first WEEKLY period starts at DTSTART rather than at the start of its week, so
    BYSETPOS counts the candidates of that week differently; the engine counts the whole week
    (RFC 5545). Cases where the two could differ are skipped.
    """
    wkst = case.kwargs.get("wkst", du.MO).weekday
    week_start = dtstart - timedelta(days=(dtstart.weekday() - wkst) % 7)
    week_start = week_start.replace(hour=0, minute=0, second=0)
    plain = Case(case.freq)
    plain.parts = [p for p in case.parts if p[0] != "BYSETPOS"]
    plain.kwargs = {k: v for k, v in case.kwargs.items() if k != "bysetpos"}
    plain.kwargs.setdefault("byweekday", [DU_WEEKDAYS[dtstart.weekday()]])
    plain.kwargs.setdefault("byhour", [dtstart.hour])
    plain.kwargs.setdefault("byminute", [dtstart.minute])
    plain.kwargs.setdefault("bysecond", [dtstart.second])
    first = next(iter(dateutil_rule(plain, week_start, bound)), None)
    return first == dtstart


def fmt(d, all_day):
    return d.strftime("%Y%m%d" if all_day else "%Y%m%dT%H%M%S")


def make_case(rng):
    """A rule with a synchronised DTSTART and its dateutil expansion, or None to try again."""
    case = generate(rng)
    all_day = rng.random() < 0.2
    start = random_start(rng, all_day)
    bound = start.replace(year=start.year + HORIZON_YEARS, month=12, day=31, hour=23, minute=59,
                          second=59)
    first = next(iter(dateutil_rule(case, start, bound)), None)
    if first is None:
        return None
    dtstart = first
    if case.freq == "WEEKLY" and case.has("BYSETPOS") and not first_of_its_week(case, dtstart,
                                                                                 bound):
        return None
    count = until = None
    roll = rng.random()
    if roll < 0.25:
        count = rng.randint(1, 15)
        case.parts.append(("COUNT", str(count)))
    elif roll < 0.5:
        until = dtstart + timedelta(days=rng.choice([0, 3, 20, 45, 100, 400, 2000]),
                                    hours=rng.randint(0, 23))
        form = "date" if all_day else rng.choice(["date", "local", "utc"])
        if form == "date":
            case.parts.append(("UNTIL", until.strftime("%Y%m%d")))
            until = until.replace(hour=23, minute=59, second=59) if not all_day else \
                until.replace(hour=0, minute=0, second=0)
        else:
            case.parts.append(("UNTIL", until.strftime("%Y%m%dT%H%M%S") +
                               ("Z" if form == "utc" else "")))
    expected = [fmt(d, all_day) for d in
                dateutil_rule(case, dtstart, bound, count=count, until=until)]
    expected = expected[:OCCURRENCES]
    line = f"{case.text()} {fmt(dtstart, all_day)} {OCCURRENCES} {bound.year}"
    return case, line, expected, all_day


def coverage_keys(case, all_day):
    keys = {f"FREQ={case.freq}"}
    for name, value in case.parts[1:]:
        keys.add(name)
        if name == "BYDAY" and any(c.isdigit() for c in value):
            keys.add("BYDAY with ordinal")
        if name == "BYMONTHDAY" and "-" in value:
            keys.add("negative BYMONTHDAY")
        if name == "UNTIL":
            keys.add("UNTIL " + ("Z" if value.endswith("Z") else "date" if len(value) == 8
                                 else "local"))
    keys.add("all-day" if all_day else "timed")
    return keys


REQUIRED = ["FREQ=DAILY", "FREQ=WEEKLY", "FREQ=MONTHLY", "FREQ=YEARLY", "INTERVAL", "BYDAY",
            "BYDAY with ordinal", "BYMONTHDAY", "negative BYMONTHDAY", "BYMONTH", "BYSETPOS",
            "COUNT", "UNTIL date", "UNTIL local", "UNTIL Z", "WKST", "all-day", "timed"]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--engine", required=True, help="path of todo_recurrence_expand")
    parser.add_argument("--rules", type=int, default=600)
    parser.add_argument("--seed", type=int, default=20260329)
    args = parser.parse_args()

    rng = random.Random(args.seed)
    cases = []
    while len(cases) < args.rules:
        made = make_case(rng)
        if made:
            cases.append(made)

    run = subprocess.run([args.engine], input="".join(c[1] + "\n" for c in cases),
                         capture_output=True, text=True, check=False)
    if run.returncode != 0:
        sys.exit(f"the engine exited with {run.returncode}: {run.stderr}")
    answers = run.stdout.split("\n")
    coverage = collections.Counter()
    for (case, line, expected, all_day), answer in zip(cases, answers):
        got = answer.split()
        if got != expected:
            print(f"DIFFERENCE for RRULE {case.text()} with DTSTART {line.split()[1]}:\n"
                  f"  dateutil: {' '.join(expected) or '(none)'}\n"
                  f"  engine:   {answer or '(none)'}", file=sys.stderr)
            return 1
        coverage.update(coverage_keys(case, all_day))
    if len(answers) < len(cases):
        sys.exit("the engine answered fewer cases than it was given")
    missing = [k for k in REQUIRED if coverage[k] < 10]
    summary = ", ".join(f"{k} {coverage[k]}" for k in sorted(coverage))
    print(f"{len(cases)} rules, {sum(len(c[2]) for c in cases)} occurrences: no difference "
          f"(seed {args.seed}). Coverage: {summary}")
    if missing:
        print(f"too few rules with {', '.join(missing)}: change the generator", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
