"""Standard 5-field cron schedules, as the CronJob controller reads them.

minute hour day-of-month month day-of-week, with lists, ranges, steps, names (jan, mon), `?` and the
macros (@hourly, @daily, ...). As in classic cron, when both day fields are restricted a day matches
if either does.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

MACROS = {
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}
MONTHS = {
    m: i + 1 for i, m in enumerate(["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"])
}
DAYS = {d: i for i, d in enumerate(["sun", "mon", "tue", "wed", "thu", "fri", "sat"])}
BOUNDS = ((0, 59), (0, 23), (1, 31), (1, 12), (0, 6))
SEARCH_MINUTES = 366 * 24 * 60 * 5  # a schedule that never fires (Feb 30) is given up on after 5 years


class CronError(ValueError):
    pass


@dataclass(frozen=True)
class Schedule:
    minutes: frozenset[int]
    hours: frozenset[int]
    days: frozenset[int]
    months: frozenset[int]
    weekdays: frozenset[int]
    any_day: bool  # day-of-month was * or ?
    any_weekday: bool

    def matches(self, t: datetime) -> bool:
        if t.minute not in self.minutes or t.hour not in self.hours or t.month not in self.months:
            return False
        dom, dow = t.day in self.days, (t.isoweekday() % 7) in self.weekdays
        if self.any_day or self.any_weekday:
            return dom and dow
        return dom or dow


def _field(text: str, index: int) -> tuple[frozenset[int], bool]:
    low, high = BOUNDS[index]
    names = MONTHS if index == 3 else DAYS if index == 4 else {}
    values: set[int] = set()
    star = text in ("*", "?")
    for part in text.split(","):
        rng, _, step_text = part.partition("/")
        try:
            step = int(step_text) if step_text else 1
        except ValueError as err:
            raise CronError(f"bad step {step_text!r}") from err
        if step < 1:
            raise CronError("step must be positive")
        if rng in ("*", "?"):
            start, end = low, high
        else:
            a, _, b = rng.partition("-")
            start = _value(a, names)
            end = _value(b, names) if b else (high if step_text else start)
        if index == 4 and end == 7:
            end = 6 if start <= 6 else 0
            values.add(0)
        if start < low or end > high + (1 if index == 4 else 0) or start > end:
            raise CronError(f"value out of range in {part!r}")
        values.update(v % 7 if index == 4 else v for v in range(start, end + 1, step))
    return frozenset(values), star


def _value(text: str, names: dict[str, int]) -> int:
    if text.lower() in names:
        return names[text.lower()]
    try:
        return int(text)
    except ValueError as err:
        raise CronError(f"bad value {text!r}") from err


def parse_cron(text: str) -> Schedule:
    spec = MACROS.get(text.strip().lower(), text.strip())
    fields = spec.split()
    if len(fields) != 5:
        raise CronError(f"expected exactly 5 fields, found {len(fields)}: {text}")
    parsed = [_field(f, i) for i, f in enumerate(fields)]
    return Schedule(
        minutes=parsed[0][0],
        hours=parsed[1][0],
        days=parsed[2][0],
        months=parsed[3][0],
        weekdays=parsed[4][0],
        any_day=parsed[2][1],
        any_weekday=parsed[4][1],
    )


def zone(name: str | None) -> tzinfo | None:
    if not name:
        return UTC
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


def next_after(schedule: Schedule, after: float, tz: tzinfo = UTC) -> float | None:
    """The first whole minute strictly after `after` (epoch seconds) the schedule fires at."""
    t = datetime.fromtimestamp(after, tz).replace(second=0, microsecond=0) + timedelta(minutes=1)
    for _ in range(SEARCH_MINUTES):
        if t.month not in schedule.months:
            # Skip to the first minute of the next month: most schedules are sparse by month.
            t = (t.replace(day=1, hour=0, minute=0) + timedelta(days=32)).replace(day=1)
            continue
        if t.hour not in schedule.hours or not schedule.matches(t.replace(minute=min(schedule.minutes))):
            t = t.replace(minute=0) + timedelta(hours=1)
            continue
        if schedule.matches(t):
            return t.timestamp()
        t += timedelta(minutes=1)
    return None


def most_recent(schedule: Schedule, since: float, now: float, tz: tzinfo = UTC) -> tuple[float | None, int]:
    """(latest fire time in (since, now], how many were missed in that window, capped at 101)."""
    latest, missed, t = None, 0, since
    while missed <= 100:
        nxt = next_after(schedule, t, tz)
        if nxt is None or nxt > now:
            break
        latest, missed, t = nxt, missed + 1, nxt
    return latest, missed
