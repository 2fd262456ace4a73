"""Accounts: sign-in with throttling, password change, admin management, dev seed, and a CLI.

`python -m services.routing.accounts create-admin --username NAME` creates the first admin of
a production installation (the password is asked for, or read from ADMIN_PASSWORD).
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import os
import sys
from typing import Any

from services.routing.repository import AccountRepository
from services.routing.settings import RoutingSettings
from services.routing.stores import AccountExists, Accounts, SignInThrottle
from services.routing.views import AccountView
from shared.auth import Principal, Role, TokenCodec
from shared.catalogue import Catalogue, packaged_catalogue
from shared.errors import Conflict, InvalidField, NotFound, TooManyRequests, Unauthorized
from shared.events import utcnow
from shared.mongo import Document, connect

WRONG_CREDENTIALS = "Nama pengguna atau kata sandi salah. (Wrong username or password.)"
MIN_PASSWORD_LENGTH = 10


async def authenticate(
    *,
    username: str,
    password: str,
    address: str,
    accounts: Accounts,
    throttle: SignInThrottle,
) -> Principal:
    """The principal for valid credentials; the same 401 for unknown user and bad password;
    429 with Retry-After after repeated failures for one username from one address."""
    wait = await throttle.attempt(username, address, utcnow())
    if wait:
        raise TooManyRequests(
            "Terlalu banyak percobaan masuk; tunggu sebentar. (Too many failed sign-ins.)",
            headers={"Retry-After": str(wait)},
        )
    account = await accounts.get(username)
    valid = await accounts.passwords.verify(account["password_hash"] if account else None, password)
    if account is None or not valid:
        raise Unauthorized(WRONG_CREDENTIALS)
    await throttle.succeeded(username, address)
    return Principal(
        username=account["_id"],
        role=Role(account["role"]),
        opd=account["opd"],
        token_version=int(account.get("token_version", 0)),
        signed_in_at=utcnow(),
    )


async def sign_in(
    *,
    username: str,
    password: str,
    address: str,
    accounts: Accounts,
    throttle: SignInThrottle,
    codec: TokenCodec,
) -> str:
    principal = await authenticate(
        username=username, password=password, address=address, accounts=accounts, throttle=throttle
    )
    return codec.issue(principal)


def _check_new_password(password: str, field: str = "new_password") -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidField(
            ("body", field),
            f"Kata sandi minimal {MIN_PASSWORD_LENGTH} karakter. "
            f"(At least {MIN_PASSWORD_LENGTH} characters.)",
        )


async def change_password(
    *, principal: Principal, current: str, new: str, accounts: Accounts
) -> Principal:
    """Change the password and revoke every token of the account issued before; the caller
    as a principal of the new token version (the console renews its own session with it)."""
    account = await accounts.get(principal.username)
    if account is None or not await accounts.passwords.verify(account["password_hash"], current):
        raise Unauthorized(WRONG_CREDENTIALS)
    _check_new_password(new)
    updated = await accounts.update(
        principal.username,
        {"password_hash": await accounts.passwords.hash(new)},
        revoke_tokens=True,
    )
    if updated is None:
        raise Unauthorized(WRONG_CREDENTIALS)
    return principal.model_copy(update={"token_version": int(updated["token_version"])})


async def sign_out(*, principal: Principal, accounts: Accounts) -> None:
    """Revoke every token of the account (all its sessions end)."""
    await accounts.update(principal.username, {}, revoke_tokens=True)


def public_account(doc: Document) -> AccountView:
    """What an account shows of itself: never its password hash or token version."""
    return AccountView(
        username=doc["_id"],
        role=doc["role"],
        opd=doc.get("opd"),
        full_name=doc.get("full_name"),
        email=doc.get("email"),
        whatsapp=doc.get("whatsapp"),
        notify_mode=doc.get("notify_mode", "immediate"),
        active=doc.get("active", True),
    )


def _check_role_opd(role: Role, opd: str | None, catalogue: Catalogue) -> None:
    needs_opd = role in (Role.OFFICER, Role.SUPERVISOR)
    if needs_opd and (opd is None or catalogue.opd(opd) is None):
        raise InvalidField(
            ("body", "opd"),
            "Petugas dan kepala OPD harus punya OPD yang dikenal. "
            "(Officers and supervisors need a known OPD.)",
        )
    if not needs_opd and opd is not None:
        raise InvalidField(
            ("body", "opd"),
            "Admin dan auditor tidak terikat OPD. (Admins and auditors have no OPD.)",
        )


async def create_account(
    *,
    accounts: Accounts,
    catalogue: Catalogue,
    username: str,
    password: str,
    role: Role,
    opd: str | None,
    profile: dict[str, Any],
) -> AccountView:
    _check_role_opd(role, opd, catalogue)
    _check_new_password(password, "password")
    try:
        await accounts.add(
            username=username,
            password_hash=await accounts.passwords.hash(password),
            role=role,
            opd=opd,
            **profile,
        )
    except AccountExists as exc:
        raise Conflict("Nama pengguna sudah dipakai. (Username taken.)") from exc
    created = await accounts.find(username)
    assert created is not None
    return public_account(created)


async def update_account(
    *,
    accounts: Accounts,
    catalogue: Catalogue,
    username: str,
    fields: dict[str, Any],
) -> AccountView:
    current = await accounts.find(username)
    if current is None:
        raise NotFound("Akun tidak ditemukan. (Account not found.)")
    changes = dict(fields)
    if "password" in changes:
        password = changes.pop("password")
        _check_new_password(password, "password")
        changes["password_hash"] = await accounts.passwords.hash(password)
    role = Role(changes["role"] if "role" in changes else current["role"])
    opd = changes["opd"] if "opd" in changes else current.get("opd")
    _check_role_opd(role, opd, catalogue)
    # A password set by an admin ends the account's sessions too.
    updated = await accounts.update(username, changes, revoke_tokens="password_hash" in changes)
    assert updated is not None
    return public_account(updated)


DEV_PASSWORDS = {
    Role.ADMIN: "admin",
    Role.AUDITOR: "auditor",
    Role.OFFICER: "officer",
    Role.SUPERVISOR: "supervisor",
}
DEV_MAIL_DOMAIN = "pengaduan.dev.serangkab.go.id"


def dev_accounts(catalogue: Catalogue) -> list[tuple[str, Role, str | None]]:
    """The development accounts ARCHITECTURE.md lists: admin, auditor, per OPD two accounts."""
    found: list[tuple[str, Role, str | None]] = [
        ("admin", Role.ADMIN, None),
        ("auditor", Role.AUDITOR, None),
    ]
    for opd in catalogue.opds:
        found.append((opd.code.lower(), Role.OFFICER, opd.code))
        found.append((f"{opd.code.lower()}-kepala", Role.SUPERVISOR, opd.code))
    return found


async def seed_dev_accounts(*, accounts: Accounts, catalogue: Catalogue) -> int:
    """Create the missing dev accounts; one argon2 hash per role keeps the start quick."""
    existing = await accounts.usernames()
    missing = [a for a in dev_accounts(catalogue) if a[0] not in existing]
    hashes: dict[Role, str] = {}
    for username, role, opd in missing:
        if role not in hashes:
            hashes[role] = await accounts.passwords.hash(DEV_PASSWORDS[role])
        await accounts.add(
            username=username,
            password_hash=hashes[role],
            role=role,
            opd=opd,
            email=f"{username}@{DEV_MAIL_DOMAIN}",
        )
    return len(missing)


async def _create_admin(settings: RoutingSettings, username: str, password: str) -> None:
    client = connect(settings.mongodb_url, timeout_ms=settings.mongodb_timeout_ms)
    try:
        accounts = AccountRepository(client[settings.mongodb_database])
        await create_account(
            accounts=accounts,
            catalogue=packaged_catalogue(),
            username=username,
            password=password,
            role=Role.ADMIN,
            opd=None,
            profile={},
        )
    finally:
        await client.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m services.routing.accounts")
    sub = parser.add_subparsers(dest="command", required=True)
    create = sub.add_parser("create-admin", help="create an admin account (the first one)")
    create.add_argument("--username", required=True)
    args = parser.parse_args(argv)
    password = os.environ.get("ADMIN_PASSWORD") or getpass.getpass("Password: ")
    try:
        asyncio.run(_create_admin(RoutingSettings(), args.username, password))
    except (Conflict, InvalidField) as exc:
        print(f"not created: {exc.detail}", file=sys.stderr)
        return 1
    print(f"admin account {args.username!r} created")
    return 0


if __name__ == "__main__":
    sys.exit(main())
