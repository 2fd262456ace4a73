"""The accounts use cases (services/routing/accounts.py) on the in-memory accounts and sign-in
throttle of tests/fakes.py: sign-in and its refusals (wrong password, unknown user, inactive
account, throttled), the password change and sign-out revoking tokens, an admin creating and
changing accounts (a username taken, the role's OPD rule, a short password), and the dev seed.
Passwords are hashed with argon2 at its cheapest (tests/fakes.py `CHEAP_ARGON2`)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from services.routing import accounts as account_cases
from shared.auth import Principal, Role, TokenCodec
from shared.catalogue import packaged_catalogue
from shared.errors import Conflict, InvalidField, NotFound, TooManyRequests, Unauthorized
from shared.signing import DEV_AUTH_PRIVATE_KEY, DEV_AUTH_PUBLIC_KEY
from tests.fakes import (
    NOW,
    InMemoryAccounts,
    InMemoryThrottle,
    a_password_hash,
    an_account,
)

ADDRESS = "192.0.2.10"
PASSWORD = "rahasia-panjang"
CATALOGUE = packaged_catalogue()


def _accounts() -> InMemoryAccounts:
    return InMemoryAccounts(
        an_account("dpupr", Role.OFFICER, "DPUPR", password_hash=a_password_hash(PASSWORD)),
        an_account(
            "dpupr.lama",
            Role.OFFICER,
            "DPUPR",
            active=False,
            password_hash=a_password_hash(PASSWORD),
        ),
        an_account("admin", Role.ADMIN, None, password_hash=a_password_hash("admin-panjang")),
    )


async def _authenticate(
    accounts: InMemoryAccounts,
    throttle: InMemoryThrottle,
    username: str = "dpupr",
    password: str = PASSWORD,
    address: str = ADDRESS,
) -> Principal:
    return await account_cases.authenticate(
        username=username,
        password=password,
        address=address,
        accounts=accounts,
        throttle=throttle,
    )


def _field(exc: InvalidField) -> list[str | int]:
    loc: list[str | int] = exc.detail[0]["loc"]
    return loc


# -- signing in -------------------------------------------------------------------------------


async def test_valid_credentials_give_the_account_as_a_principal() -> None:
    throttle = InMemoryThrottle()
    principal = await _authenticate(_accounts(), throttle)
    assert (principal.username, principal.role, principal.opd) == ("dpupr", Role.OFFICER, "DPUPR")
    assert principal.token_version == 0 and principal.signed_in_at is not None
    assert throttle.attempts == []  # a success forgets the pair's attempts


async def test_sign_in_issues_a_token_of_the_account() -> None:
    codec = TokenCodec(DEV_AUTH_PUBLIC_KEY, private=DEV_AUTH_PRIVATE_KEY, ttl_seconds=60)
    token = await account_cases.sign_in(
        username="dpupr",
        password=PASSWORD,
        address=ADDRESS,
        accounts=_accounts(),
        throttle=InMemoryThrottle(),
        codec=codec,
    )
    verified = codec.verify(token)
    assert (verified.username, verified.role, verified.opd) == ("dpupr", Role.OFFICER, "DPUPR")


@pytest.mark.parametrize(
    ("username", "password"),
    [
        ("dpupr", "salah-sama-sekali"),  # wrong password
        ("tidak-ada", PASSWORD),  # unknown user
        ("dpupr.lama", PASSWORD),  # deactivated, right password
    ],
)
async def test_a_refused_sign_in_is_the_same_401_and_counts_as_an_attempt(
    username: str, password: str
) -> None:
    throttle = InMemoryThrottle()
    with pytest.raises(Unauthorized) as refused:
        await _authenticate(_accounts(), throttle, username, password)
    assert refused.value.detail == account_cases.WRONG_CREDENTIALS
    assert len(throttle.attempts) == 1


async def test_repeated_failures_for_one_username_are_throttled_even_with_the_password() -> None:
    accounts = _accounts()
    throttle = InMemoryThrottle(max_failures=3, window=timedelta(minutes=15))
    for _ in range(3):
        with pytest.raises(Unauthorized):
            await _authenticate(accounts, throttle, password="salah-sama-sekali")
    with pytest.raises(TooManyRequests) as throttled:
        await _authenticate(accounts, throttle)  # the right password, too late
    assert throttled.value.headers is not None
    assert 1 <= int(throttled.value.headers["Retry-After"]) <= 15 * 60 + 1
    # Another address is not held back by this one's failures.
    assert (await _authenticate(accounts, throttle, address="192.0.2.99")).username == "dpupr"


async def test_one_address_spraying_many_usernames_is_throttled() -> None:
    accounts = _accounts()
    throttle = InMemoryThrottle(max_failures=5, max_failures_per_address=4)
    for name in ("dlh", "dlh-kepala", "dinkes", "dinkes-kepala"):
        with pytest.raises(Unauthorized):
            await _authenticate(accounts, throttle, name, "officer")
    with pytest.raises(TooManyRequests):
        await _authenticate(accounts, throttle)


async def test_attempts_leave_the_throttle_after_its_window() -> None:
    throttle = InMemoryThrottle(max_failures=1, window=timedelta(minutes=15))
    assert await throttle.attempt("dpupr", ADDRESS, NOW) == 0
    assert await throttle.attempt("dpupr", ADDRESS, NOW + timedelta(minutes=5)) == 10 * 60 + 1
    assert await throttle.attempt("DPUPR", ADDRESS, NOW + timedelta(minutes=21)) == 0


# -- a password changed, signing out ----------------------------------------------------------


async def test_a_password_change_stores_a_new_hash_and_revokes_older_tokens() -> None:
    accounts = _accounts()
    me = await _authenticate(accounts, InMemoryThrottle())
    renewed = await account_cases.change_password(
        principal=me, current=PASSWORD, new="kata-sandi-baru-sekali", accounts=accounts
    )
    assert renewed.token_version == 1 and renewed.username == "dpupr"
    assert accounts.docs["dpupr"]["token_version"] == 1
    with pytest.raises(Unauthorized):
        await _authenticate(accounts, InMemoryThrottle())  # the old password
    assert (
        await _authenticate(accounts, InMemoryThrottle(), password="kata-sandi-baru-sekali")
    ).token_version == 1


async def test_a_password_change_refuses_a_wrong_current_password_or_a_short_new_one() -> None:
    accounts = _accounts()
    me = await _authenticate(accounts, InMemoryThrottle())
    with pytest.raises(Unauthorized):
        await account_cases.change_password(
            principal=me,
            current="bukan-ini-sandinya",
            new="kata-sandi-baru-sekali",
            accounts=accounts,
        )
    with pytest.raises(InvalidField) as short:
        await account_cases.change_password(
            principal=me, current=PASSWORD, new="pendek", accounts=accounts
        )
    assert _field(short.value) == ["body", "new_password"]
    assert "token_version" not in accounts.docs["dpupr"]  # nothing changed


async def test_a_deactivated_account_cannot_change_its_password() -> None:
    accounts = _accounts()
    former = Principal(username="dpupr.lama", role=Role.OFFICER, opd="DPUPR")
    with pytest.raises(Unauthorized):
        await account_cases.change_password(
            principal=former, current=PASSWORD, new="kata-sandi-baru-sekali", accounts=accounts
        )


async def test_signing_out_revokes_every_token_of_the_account() -> None:
    accounts = _accounts()
    me = await _authenticate(accounts, InMemoryThrottle())
    await account_cases.sign_out(principal=me, accounts=accounts)
    await account_cases.sign_out(principal=me, accounts=accounts)
    assert accounts.docs["dpupr"]["token_version"] == 2
    assert (await _authenticate(accounts, InMemoryThrottle())).token_version == 2


# -- an admin's account management ------------------------------------------------------------


async def test_an_account_created_is_active_and_signs_in_with_its_password() -> None:
    accounts = _accounts()
    view = await account_cases.create_account(
        accounts=accounts,
        catalogue=CATALOGUE,
        username="dlh-kepala",
        password="kepala-dlh-rahasia",
        role=Role.SUPERVISOR,
        opd="DLH",
        profile={"full_name": "Kepala DLH", "email": "kepala@dlh.example"},
    )
    assert (view.username, view.role, view.opd, view.active, view.notify_mode) == (
        "dlh-kepala",
        "supervisor",
        "DLH",
        True,
        "immediate",
    )
    assert (view.full_name, view.email, view.whatsapp) == ("Kepala DLH", "kepala@dlh.example", None)
    assert accounts.docs["dlh-kepala"]["password_hash"].startswith("$argon2")
    principal = await _authenticate(
        accounts, InMemoryThrottle(), "dlh-kepala", "kepala-dlh-rahasia"
    )
    assert (principal.role, principal.opd) == (Role.SUPERVISOR, "DLH")


async def test_a_username_taken_is_409_and_keeps_the_first_account() -> None:
    accounts = _accounts()
    before = accounts.docs["dpupr"]["password_hash"]
    with pytest.raises(Conflict):
        await account_cases.create_account(
            accounts=accounts,
            catalogue=CATALOGUE,
            username="dpupr",
            password="kata-sandi-lain-sekali",
            role=Role.ADMIN,
            opd=None,
            profile={},
        )
    assert accounts.docs["dpupr"]["role"] == "officer"
    assert accounts.docs["dpupr"]["password_hash"] == before


@pytest.mark.parametrize(
    ("role", "opd"),
    [
        (Role.SUPERVISOR, None),  # a supervisor needs an OPD
        (Role.OFFICER, "DINAS-TIDAK-ADA"),  # a known one
        (Role.ADMIN, "DPUPR"),  # an admin has none
        (Role.AUDITOR, "INSPEKTORAT"),  # nor has an auditor
    ],
)
async def test_an_account_whose_role_and_opd_do_not_fit_is_refused(
    role: Role, opd: str | None
) -> None:
    accounts = _accounts()
    with pytest.raises(InvalidField) as refused:
        await account_cases.create_account(
            accounts=accounts,
            catalogue=CATALOGUE,
            username="baru",
            password="kata-sandi-baru-sekali",
            role=role,
            opd=opd,
            profile={},
        )
    assert _field(refused.value) == ["body", "opd"]
    assert "baru" not in accounts.docs


async def test_a_short_password_is_refused_on_creation() -> None:
    accounts = _accounts()
    with pytest.raises(InvalidField) as refused:
        await account_cases.create_account(
            accounts=accounts,
            catalogue=CATALOGUE,
            username="baru",
            password="pendek",
            role=Role.ADMIN,
            opd=None,
            profile={},
        )
    assert _field(refused.value) == ["body", "password"]
    assert "baru" not in accounts.docs


async def test_an_admin_moves_an_officer_to_another_opd_and_the_profile_stays() -> None:
    accounts = _accounts()
    view = await account_cases.update_account(
        accounts=accounts, catalogue=CATALOGUE, username="dpupr", fields={"opd": "DLH"}
    )
    assert (view.role, view.opd) == ("officer", "DLH")
    assert "token_version" not in accounts.docs["dpupr"]  # its sessions go on


async def test_a_password_set_by_an_admin_ends_the_accounts_sessions() -> None:
    accounts = _accounts()
    await account_cases.update_account(
        accounts=accounts,
        catalogue=CATALOGUE,
        username="dpupr",
        fields={"password": "sandi-dari-admin-baru"},
    )
    stored = accounts.docs["dpupr"]
    assert stored["token_version"] == 1 and "password" not in stored
    principal = await _authenticate(accounts, InMemoryThrottle(), password="sandi-dari-admin-baru")
    assert principal.token_version == 1


async def test_a_deactivated_account_can_no_longer_sign_in() -> None:
    accounts = _accounts()
    view = await account_cases.update_account(
        accounts=accounts, catalogue=CATALOGUE, username="dpupr", fields={"active": False}
    )
    assert view.active is False
    with pytest.raises(Unauthorized):
        await _authenticate(accounts, InMemoryThrottle())


async def test_an_update_refuses_an_unknown_account_a_misfit_role_or_a_short_password() -> None:
    accounts = _accounts()
    with pytest.raises(NotFound):
        await account_cases.update_account(
            accounts=accounts, catalogue=CATALOGUE, username="tidak-ada", fields={"active": False}
        )
    with pytest.raises(InvalidField) as promoted:  # an officer made admin keeps its OPD
        await account_cases.update_account(
            accounts=accounts, catalogue=CATALOGUE, username="dpupr", fields={"role": "admin"}
        )
    assert _field(promoted.value) == ["body", "opd"]
    with pytest.raises(InvalidField) as short:
        await account_cases.update_account(
            accounts=accounts, catalogue=CATALOGUE, username="dpupr", fields={"password": "x"}
        )
    assert _field(short.value) == ["body", "password"]
    assert accounts.docs["dpupr"]["role"] == "officer"
    assert "token_version" not in accounts.docs["dpupr"]


async def test_an_officer_made_admin_loses_its_opd_in_the_same_change() -> None:
    accounts = _accounts()
    view = await account_cases.update_account(
        accounts=accounts,
        catalogue=CATALOGUE,
        username="dpupr",
        fields={"role": "admin", "opd": None},
    )
    assert (view.role, view.opd) == ("admin", None)


def test_an_accounts_view_never_shows_its_password_hash_or_token_version() -> None:
    doc = an_account("dpupr", Role.OFFICER, "DPUPR", password_hash="$argon2id$x", token_version=4)
    view = account_cases.public_account(doc)
    assert set(vars(view)) == {
        "username",
        "role",
        "opd",
        "full_name",
        "email",
        "whatsapp",
        "notify_mode",
        "active",
    }


# -- the development accounts -----------------------------------------------------------------


async def test_the_dev_seed_creates_each_missing_account_once_with_its_roles_password() -> None:
    accounts = _accounts()  # "dpupr" and "admin" exist already, with their own passwords
    created = await account_cases.seed_dev_accounts(accounts=accounts, catalogue=CATALOGUE)
    expected = account_cases.dev_accounts(CATALOGUE)
    assert created == len(expected) - 2
    assert await account_cases.seed_dev_accounts(accounts=accounts, catalogue=CATALOGUE) == 0
    assert {u for u, _, _ in expected} <= await accounts.usernames()
    supervisor = await _authenticate(accounts, InMemoryThrottle(), "dpupr-kepala", "supervisor")
    assert (supervisor.role, supervisor.opd) == (Role.SUPERVISOR, "DPUPR")
    auditor = await _authenticate(accounts, InMemoryThrottle(), "auditor", "auditor")
    assert (auditor.role, auditor.opd) == (Role.AUDITOR, None)
    # The accounts that existed keep their passwords.
    with pytest.raises(Unauthorized):
        await _authenticate(accounts, InMemoryThrottle(), "admin", "admin")
    assert accounts.docs["dlh"]["email"] == f"dlh@{account_cases.DEV_MAIL_DOMAIN}"
