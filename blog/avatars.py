"""Faces for commenters, authors and likers, made here: an identicon drawn
from a hash of the email address (or the name when there is none). Nothing
is sent anywhere; the picture is a 7 by 7 PNG in a data: URL (about 150
characters), drawn pixelated at any size, so it costs no request (the CSP
allows `data:` images, blog/settings.py).

A 5 by 5 grid, mirrored left to right, in one of a set of colours chosen for
contrast on both colour schemes (static/css/site.css gives the circle its
background).
"""

from __future__ import annotations

import base64
import hashlib
import struct
import zlib
from functools import lru_cache

from django.utils.safestring import SafeString, mark_safe

COLOURS = (
    "#b5482a", "#2f7d6b", "#4a63b5", "#8a4fb0", "#b0781f",
    "#3b7f2f", "#b03a6e", "#27728f", "#7a6a2a", "#5b5fc7",
)  # fmt: skip


def _key(email: str, name: str) -> bytes:
    return (email.strip().lower() or f"name:{name.strip().lower()}").encode()


def _png(pixels: list[list[tuple[int, int, int, int]]]) -> bytes:
    """A PNG of RGBA rows (no library: the picture is 7 by 7)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    height, width = len(pixels), len(pixels[0])
    raw = b"".join(b"\x00" + b"".join(bytes(pixel) for pixel in row) for row in pixels)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(raw, 9))
        + chunk(b"IEND", b"")
    )


@lru_cache(maxsize=4096)
def identicon_url(email: str, name: str = "") -> str:
    """The identicon of `email` (or `name`) as a data: URL."""
    digest = hashlib.sha256(_key(email, name)).digest()
    colour = COLOURS[digest[0] % len(COLOURS)]
    red, green, blue = (int(colour[i : i + 2], 16) for i in (1, 3, 5))
    ground, ink = (red, green, blue, 41), (red, green, blue, 255)
    pixels = [[ground] * 7 for _ in range(7)]
    bits = int.from_bytes(digest[1:5], "big")
    for row in range(5):
        for column in range(3):
            if bits & 1:
                pixels[row + 1][column + 1] = pixels[row + 1][5 - column] = ink
            bits >>= 1
    return "data:image/png;base64," + base64.b64encode(_png(pixels)).decode()


def avatar(email: str, name: str = "", size: int = 40) -> SafeString:
    """An <img> of the identicon, decorative (the name is beside it)."""
    # Base64: nothing in it needs escaping in an attribute.
    url = identicon_url(email or "", name or "")
    return mark_safe(
        f'<img class="avatar" src="{url}" alt="" width="{int(size)}" '
        f'height="{int(size)}">'
    )
