"""Working days in Asia/Jakarta: weekends, Indonesian national holidays and extra days off.

National holidays come from the maintained `holidays` package; cuti bersama and local days off
are configured (settings `HOLIDAYS_EXTRA`, ISO dates) because they are decided each year.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import holidays

JAKARTA = ZoneInfo("Asia/Jakarta")


class WorkCalendar:
    def __init__(self, extra_days_off: Iterable[date] = (), *, national: bool = True) -> None:
        self._extra = frozenset(extra_days_off)
        self._national: holidays.HolidayBase | None = (
            holidays.country_holidays("ID") if national else None
        )

    def is_working_day(self, day: date) -> bool:
        if day.weekday() >= 5 or day in self._extra:
            return False
        return self._national is None or day not in self._national

    def add_working_days(self, start: datetime, days: int) -> datetime:
        """The same local time `days` working days after `start`, in Jakarta time."""
        local = start.astimezone(JAKARTA)
        day = local.date()
        remaining = days
        while remaining > 0:
            day += timedelta(days=1)
            if self.is_working_day(day):
                remaining -= 1
        return datetime.combine(day, local.timetz())

    def working_days_between(self, start: datetime, end: datetime) -> int:
        """Whole working days from `start` to `end` (0 on the same day or when end < start)."""
        first = start.astimezone(JAKARTA).date()
        last = end.astimezone(JAKARTA).date()
        count = 0
        day = first
        while day < last:
            day += timedelta(days=1)
            if self.is_working_day(day):
                count += 1
        return count
