"""A ticket's lifecycle in one place, pure (standard library and pydantic only).

- `statuses`: the status groups (which statuses are open, paused, final, answered).
- `actors`: who acts (officer, supervisor, admin, auditor, citizen, system).
- `table`: the transition table for every actor, and the checks made before a step.
- `sla`: the SP4N-LAPOR! deadlines in working days and the due dates they give.
- `changes`: `Change` and the one helper that builds a change's history and outbox entries.
- `repository`: the ticket store's Protocol and `apply`, the version-checked write with retries.

Staff actions (`services.routing.workflow`), the citizen's confirm and dispute
(`services.intake.complaints`), routing and triage (`services.routing.service`) and the
automatic close (`services.routing.deadlines`) all go through it.
"""
