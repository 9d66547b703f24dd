"""Text PostgreSQL can store. Its text types, in a column or inside JSONB, cannot hold U+0000
(NUL): a caller's string that may be stored is refused with it at validation, naming the field
(422), instead of failing in the database (a 500)."""

from __future__ import annotations

from pydantic import AfterValidator


def without_nul(value: str) -> str:
    if "\x00" in value:
        raise ValueError("must not contain the NUL character (\\u0000)")
    return value


Storable = AfterValidator(without_nul)
"""Annotate a `str` field with it: `Annotated[str, Field(...), Storable]`."""
