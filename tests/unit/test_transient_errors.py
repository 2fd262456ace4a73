"""Which handler failures the consume loop waits out (the infrastructure's) and which use up
an attempt towards the dead-letter topic (the message's)."""

from __future__ import annotations

import pytest
from pymongo.errors import AutoReconnect, DuplicateKeyError, OperationFailure, WriteError

from shared.kafka import is_transient
from shared.locks import LockTimeout

# What FerretDB answered in the fault suite while its PostgreSQL was killed.
FERRETDB_BACKEND_DOWN = (
    "[msg_find.go:344 handler.handleMaxTimeMSError] [collection.go:109 "
    "postgresql.(*collection).Query] failed to connect to `user=postgres database=ferretdb`: "
    "127.0.0.1:35565 (127.0.0.1): dial error: dial tcp 127.0.0.1:35565: connect: connection refused"
)


@pytest.mark.parametrize(
    ("error", "transient"),
    [
        (AutoReconnect("connection refused"), True),
        (LockTimeout("LP-AAAA-0001"), True),
        (OperationFailure(FERRETDB_BACKEND_DOWN, code=1), True),
        (OperationFailure("not primary", code=10107), True),
        (OperationFailure("interrupted at shutdown", code=11600), True),
        (OperationFailure("operation exceeded time limit", code=262), True),
        (OperationFailure("unknown operator: $foo", code=2), False),
        (OperationFailure("some internal error", code=1), False),
        (DuplicateKeyError("E11000 duplicate key", code=11000), False),
        (WriteError("document too large", code=10334), False),
        (ValueError("malformed payload"), False),
    ],
)
def test_only_an_unavailable_database_is_waited_out(error: Exception, transient: bool) -> None:
    assert is_transient(error) is transient
