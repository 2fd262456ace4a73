"""Routing's HTTP routes: sign-in for officers, supervisors, admins and auditors."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.security import OAuth2PasswordRequestForm
from pydantic import BaseModel

from services.routing import service
from services.routing.repository import AccountRepository
from shared.auth import TokenCodec


class TokenOut(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_in: int


def _accounts(request: Request) -> AccountRepository:
    accounts: AccountRepository = request.state.accounts
    return accounts


def _codec(request: Request) -> TokenCodec:
    codec: TokenCodec = request.app.state.token_codec
    return codec


AccountsDep = Annotated[AccountRepository, Depends(_accounts)]
CodecDep = Annotated[TokenCodec, Depends(_codec)]
PasswordForm = Annotated[OAuth2PasswordRequestForm, Depends()]

router = APIRouter(prefix="/api/v1", tags=["auth"])


@router.post(
    "/auth/token",
    response_model=TokenOut,
    summary="Sign in (OAuth2 password form) and get a short-lived bearer token",
    responses={401: {"description": "Wrong username or password"}},
)
async def issue_token(form: PasswordForm, accounts: AccountsDep, codec: CodecDep) -> TokenOut:
    token = await service.sign_in(
        username=form.username, password=form.password, accounts=accounts, codec=codec
    )
    return TokenOut(access_token=token, expires_in=codec.ttl_seconds)
