"""Dependencies intake's routers share: the use-case context, the caller's address, throttling."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from services.intake import service
from services.intake.service import IntakeContext


async def _context(request: Request) -> IntakeContext:
    ctx: IntakeContext = request.state.intake
    return ctx


IntakeDep = Annotated[IntakeContext, Depends(_context)]


async def client_address(request: Request) -> str:
    """The caller's address: the socket peer, or what a trusted proxy (FORWARDED_ALLOW_IPS)
    says in X-Forwarded-For; shared.http installs the middleware that decides."""
    return request.client.host if request.client else "unknown"


ClientDep = Annotated[str, Depends(client_address)]


async def rate_limit(ctx: IntakeDep, client: ClientDep) -> None:
    """For public write endpoints: 429 with Retry-After past the per-address limit (async, so
    that it runs on the event loop, where the count cannot race)."""
    service.check_rate(ctx, client)


RateLimited = Depends(rate_limit)
