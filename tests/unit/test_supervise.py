"""Background loops end when they are stopped, even when a driver turns the cancellation into
an error the loop retries (PyMongo's async driver raises `AutoReconnect("operation
cancelled")` for a cancelled read): a loop that ran on kept the event loop from closing, and a
test's app from shutting down (CI hung in a TestClient's teardown)."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from pymongo.errors import AutoReconnect

from services.notify.dispatch import Dispatcher
from shared.events import TicketRouted
from shared.kafka import ConsumeLoop, KafkaPublisher
from shared.supervise import keep_running, raise_if_stopping, run_together, stop, waiting_in


async def driver_operation() -> None:
    """An operation that reports its own cancellation as a driver error."""
    try:
        await asyncio.sleep(10)
    except asyncio.CancelledError:
        raise AutoReconnect("operation cancelled") from None


async def retrying_loop(attempts: list[int]) -> None:
    """A loop that retries whatever the driver raises, as the service's loops do."""
    while True:
        attempts.append(1)
        try:
            await driver_operation()
        except AutoReconnect:
            raise_if_stopping()


async def test_one_cancellation_ends_a_loop_whose_driver_turns_it_into_an_error() -> None:
    """One cancel is all an event loop's close gives a task (asyncio.run, a TestClient)."""
    attempts: list[int] = []
    task = asyncio.create_task(keep_running("test", lambda: retrying_loop(attempts)))
    await asyncio.sleep(0.01)
    task.cancel()
    await asyncio.wait_for(asyncio.wait([task]), timeout=2)
    assert task.cancelled()
    assert len(attempts) == 1


async def test_keep_running_does_not_restart_a_loop_cancelled_into_an_error() -> None:
    started: list[int] = []

    async def loop() -> None:
        started.append(1)
        await driver_operation()  # the error escapes the loop

    task = asyncio.create_task(keep_running("test", loop, pause_s=0))
    await asyncio.sleep(0.01)
    task.cancel()
    await asyncio.wait_for(asyncio.wait([task]), timeout=2)
    assert task.cancelled() and started == [1]


async def test_loops_run_together_are_all_ended_before_their_runner_ends() -> None:
    """`asyncio.gather` returns as soon as one child is cancelled and leaves the other behind."""
    swallowed: list[int] = []

    async def stubborn() -> None:
        while True:
            try:
                await asyncio.sleep(10)
            except asyncio.CancelledError:
                if swallowed:
                    raise
                swallowed.append(1)  # once: as a driver might

    async def polite() -> None:
        await asyncio.sleep(10)

    runner = asyncio.create_task(run_together(stubborn(), polite()))
    await asyncio.sleep(0.01)
    await asyncio.wait_for(stop([runner], retry_s=0.05), timeout=5)
    assert runner.cancelled()
    assert asyncio.all_tasks() == {asyncio.current_task()}


class Unused(KafkaPublisher):
    def __init__(self) -> None:
        super().__init__("127.0.0.1:1", client_id="test")
        self.sent: list[Any] = []

    async def send(self, topic: str, value: bytes, **_: Any) -> None:
        self.sent.append(topic)


async def test_a_consumer_cancelled_inside_its_handler_neither_retries_nor_dead_letters() -> None:
    """A handler's cancelled write must not count as the event's failure."""
    calls: list[int] = []

    async def handler(_: Any) -> None:
        calls.append(1)
        await driver_operation()

    publisher = Unused()
    consumer = ConsumeLoop(
        bootstrap_servers="127.0.0.1:1",
        group_id="test",
        topics=["t"],
        handlers={"ticket.routed": handler},
        dead_letter_topic="dlq",
        publisher=publisher,
        max_attempts=1,
        backoff_s=0,
    )
    envelope = TicketRouted(opd="DLH", status="routed", confidence=0.8, model="m").envelope(
        ticket_id="LP-ABCD-EFGH", producer="routing", correlation_id="c"
    )
    handling = asyncio.create_task(consumer._handle(None, envelope, handler))
    await asyncio.sleep(0.01)
    handling.cancel()
    await asyncio.wait_for(asyncio.wait([handling]), timeout=2)
    assert handling.cancelled()
    assert calls == [1] and publisher.sent == []


async def test_a_task_left_running_is_reported_with_where_it_waits() -> None:
    async def inner() -> None:
        await asyncio.sleep(10)

    async def outer() -> None:
        await inner()

    task = asyncio.create_task(outer())
    await asyncio.sleep(0)
    chain = waiting_in(task)
    assert [step.split(":")[0] for step in chain[:2]] == [
        "test_a_task_left_running_is_reported_with_where_it_waits.<locals>.outer",
        "test_a_task_left_running_is_reported_with_where_it_waits.<locals>.inner",
    ]
    task.cancel()
    await asyncio.wait([task])


async def test_a_retry_loop_ends_when_a_call_swallowed_its_cancellation() -> None:
    """Python 3.11's `asyncio.wait_for` returns the result of an operation that finished as
    the task was cancelled, and the request to stop is lost but for the task's count: the
    notify retry loop checks that count each round (it used to run on for ever)."""
    rounds = 0

    async def work(_: str) -> int:
        nonlocal rounds
        rounds += 1
        with contextlib.suppress(asyncio.CancelledError):  # as wait_for may, in Python 3.11
            await asyncio.sleep(0.01)
        return 1  # busy: the loop goes round at once

    dispatcher = Dispatcher.__new__(Dispatcher)  # a busy loop touches nothing of it
    task = asyncio.create_task(dispatcher._loop(work, "test"))
    await asyncio.sleep(0.05)
    task.cancel()
    done, _ = await asyncio.wait([task], timeout=2)
    assert done, "the loop ran on after its cancellation was swallowed"
    assert task.cancelled() and rounds >= 2
