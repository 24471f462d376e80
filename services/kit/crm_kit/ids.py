"""Resource ids: a short type prefix plus 120 random bits (DESIGN section 6
asks for at least 96).

`new_id("cus")` -> "cus_" + 24 characters of lowercase base32 (RFC 4648
alphabet a-z2-7, no padding) from 15 bytes of `secrets`: as long as the
older ids, so every length limit on an id (the gateway's referred_by, say)
still holds; never guessable,
never time-ordered, so nothing may rely on ids sorting by creation (lists are
ordered by their books or by name, with the id only as a tie-break).

Older ids were "<prefix>_" + a 24-hex-digit ObjectId; they stay valid:
`id_pattern(prefix)` accepts both forms.
"""

from __future__ import annotations

import base64
import re
import secrets

from crm_kit.errors import NotFound

RANDOM_BYTES = 15  # 120 bits
_ENCODED_LENGTH = 24  # 120 / 5, so base32 needs no padding
_PREFIX = re.compile(r"^[a-z]{2,8}$")


def new_id(prefix: str) -> str:
    """A fresh id such as "cus_5xq2…" (prefix + "_" + 24 base32 characters)."""
    if not _PREFIX.match(prefix):
        raise ValueError(f"an id prefix is 2 to 8 lowercase letters, not {prefix!r}")
    encoded = base64.b32encode(secrets.token_bytes(RANDOM_BYTES)).decode().rstrip("=").lower()
    return f"{prefix}_{encoded}"


def id_pattern(prefix: str) -> re.Pattern[str]:
    """Matches the ids of `prefix`: new random ones and older ObjectId-style ones."""
    if not _PREFIX.match(prefix):
        raise ValueError(f"an id prefix is 2 to 8 lowercase letters, not {prefix!r}")
    return re.compile(rf"^{prefix}_(?:[a-z2-7]{{{_ENCODED_LENGTH}}}|[0-9a-f]{{24}})\Z")


def matches(pattern: re.Pattern[str], value: object) -> bool:
    """Whether `value` has the shape of an id of `pattern` (id_pattern)."""
    return isinstance(value, str) and pattern.match(value) is not None


def not_found(resource_type: str, value: object, pattern: re.Pattern[str]) -> NotFound:
    """NotFound naming the id asked for only when it has the shape of one of
    ours: a caller's arbitrary text is never echoed back."""
    return NotFound(resource_type, value if matches(pattern, value) else "")
