"""Constrained types that the HTTP request models of more than one service share."""

from __future__ import annotations

from typing import Annotated

from pydantic import StringConstraints

Email = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True,
        to_lower=True,
        max_length=254,
        pattern=r"^[^@\s]+@[^@\s]+\.[A-Za-z]{2,}$",
    ),
]
