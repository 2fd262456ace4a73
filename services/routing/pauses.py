"""Honest SLA clocks: "menunggu pelapor" and "menunggu pihak ketiga" pause the deadline.

Pure arithmetic in working days, kept with the other deadlines in `shared.lifecycle.sla`
(re-exported here): a paused ticket has no running deadline; on resuming, its deadline moves
on by the working days the pause lasted, so the OPD gets back exactly the working time it lost
while it waited. Whole working days are counted as `WorkCalendar.working_days_between` counts
them (each working day begun after the pause's day), the same granularity as the deadlines.
"""

from __future__ import annotations

from shared.lifecycle.sla import paused_working_days as paused_working_days
from shared.lifecycle.sla import resumed_due_at as resumed_due_at
