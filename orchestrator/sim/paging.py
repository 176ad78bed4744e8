"""List chunking: `limit` and `continue`, as the API server pages a list (kubectl asks 500 at a time).

A token names the last key returned, and the next page starts after that key. The API server serves every
page from the first page's snapshot (etcd keeps old revisions); here a later page reads the current state,
so a write between pages shows up. No client here depends on that difference.
"""

from __future__ import annotations

import base64
import binascii
import json
from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TypeVar

from .errors import ApiError

T = TypeVar("T")


@dataclass(frozen=True)
class Page:
    continue_token: str | None = None
    remaining: int | None = None  # items after this page (remainingItemCount)

    def metadata(self) -> dict[str, object]:
        """What a list's metadata carries about the pages after this one."""
        if self.continue_token is None:
            return {}
        return {"continue": self.continue_token, "remainingItemCount": self.remaining}


def _token(resource_version: str, key: str) -> str:
    raw = json.dumps({"rv": resource_version, "start": key}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode()


def _start_after(token: str) -> str:
    try:
        data = json.loads(base64.urlsafe_b64decode(token.encode()))
        start = data["start"]
    except (binascii.Error, ValueError, TypeError, KeyError, UnicodeDecodeError):
        raise ApiError(400, "continue key is not valid: the continue token is malformed") from None
    if not isinstance(start, str):
        raise ApiError(400, "continue key is not valid: the continue token is malformed")
    return start


def _limit(text: str | None) -> int:
    if text is None or text == "":
        return 0
    try:
        return max(0, int(text))
    except ValueError:
        raise ApiError(400, f'invalid value for limit: "{text}": not an integer') from None


def page(
    items: Sequence[T], keys: Sequence[str], limit: str | None, token: str | None, resource_version: str
) -> tuple[Sequence[T], Page]:
    """The page of `items` (sorted, with their sorted `keys`) that `limit` and `token` ask for."""
    start = bisect_right(keys, _start_after(token)) if token else 0
    size = _limit(limit)
    end = len(items) if size == 0 else min(len(items), start + size)
    if end >= len(items):
        return items[start:], Page()
    return items[start:end], Page(_token(resource_version, keys[end - 1]), len(items) - end)
