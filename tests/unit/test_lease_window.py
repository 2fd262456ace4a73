"""LeaseWindow: work under locks taken together stays few at once and within the lease."""

from __future__ import annotations

import asyncio

from shared.locks import LeaseWindow


async def test_writes_run_only_while_a_third_of_the_lease_is_not_over() -> None:
    window = LeaseWindow(lease_s=0.3, at_once=2)
    ran: list[str] = []

    async def write(name: str) -> None:
        ran.append(name)

    assert window.open and await window.in_time(lambda: write("first"))
    await asyncio.sleep(0.15)
    assert not window.open
    assert not await window.in_time(lambda: write("late"))
    window.renew()  # another lock taken just now
    assert await window.in_time(lambda: write("after renew"))
    assert ran == ["first", "after renew"]


async def test_a_write_waiting_for_a_slot_is_dropped_if_the_window_closed_meanwhile() -> None:
    window = LeaseWindow(lease_s=0.3, at_once=1)
    release = asyncio.Event()

    async def slow() -> None:
        await release.wait()

    first = asyncio.create_task(window.in_time(slow))
    waiting = asyncio.create_task(window.in_time(slow))
    await asyncio.sleep(0.15)  # the window closes while the second waits for the slot
    release.set()
    assert await first and not await waiting


async def test_at_most_at_once_calls_side_by_side() -> None:
    window = LeaseWindow(lease_s=15, at_once=3)
    running = most = 0

    async def read(n: int) -> int:
        nonlocal running, most
        running += 1
        most = max(most, running)
        await asyncio.sleep(0.01)
        running -= 1
        return n

    assert await asyncio.gather(*(window.side_by_side(read(n)) for n in range(10))) == list(
        range(10)
    )
    assert most == 3
