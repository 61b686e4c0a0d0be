"""Opaque, time-ordered identifiers so lists come out in creation order."""
from __future__ import annotations

import os
import time

_ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"


def new_id(prefix: str) -> str:
    value = (int(time.time() * 1000) << 40) | int.from_bytes(os.urandom(5), "big")
    chars = []
    for _ in range(18):
        chars.append(_ALPHABET[value & 31])
        value >>= 5
    return prefix + "_" + "".join(reversed(chars))
