"""Every console router in one, for the composition root to include."""

from __future__ import annotations

from fastapi import APIRouter

from services.routing.web import account, queue, sign_in, ticket, work

router = APIRouter()
# Work first, as before the console's pages were split: its paths are the more specific ones.
for module in (work, sign_in, queue, ticket, account):
    router.include_router(module.router)
