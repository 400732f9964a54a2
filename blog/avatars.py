"""Faces for commenters, authors and likers, made here: an identicon drawn
from a hash of the email address (or the name when there is none). Nothing
is sent anywhere; the picture is a 7 by 7 PNG in a data: URL (about 150
characters), drawn pixelated at any size, so it costs no request (the CSP
allows `data:` images, blog/settings.py).

A 5 by 5 grid, mirrored left to right, in one of a set of colours chosen for
contrast on both colour schemes (static/css/site.css gives the circle its
background).

Gravatar only when an administrator turns it on (SiteIdentity.gravatar, off
by default; saving it bumps the site version, so cached pages follow at
once). Then a face is the identicon with the person's Gravatar picture laid
over it (`.face`, site.css), asked for with `d=blank`: someone without a
Gravatar picture gets a transparent one, so the identicon under it shows.
When Gravatar cannot be reached (or the reader blocks it), static/js/faces.js
takes the failed picture away, which would otherwise leave the browser's
broken-image mark over the identicon (without script the identicon still
shows under that mark). No inline `onerror` (the CSP has no inline script),
and no fallback address Gravatar would have to fetch from us (`d=<url>` needs
a site Gravatar can reach). The Content-Security-Policy lets
GRAVATAR_ORIGIN's pictures in only while it is on (blog.middleware). Off, no
page holds a Gravatar address.
"""

from __future__ import annotations

import base64
import hashlib
import struct
import zlib
from functools import lru_cache

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from blog.models import SiteIdentity

GRAVATAR_ORIGIN = "https://secure.gravatar.com"

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


def gravatar_enabled() -> bool:
    return SiteIdentity.current().gravatar


def gravatar_url(email: str, size: int = 40) -> str:
    """The Gravatar picture of `email` at `size` CSS pixels (asked for at
    twice that, for dense screens), or "" when Gravatar is off or there is no
    address (a name is never sent). Gravatar takes the SHA-256 of the
    trimmed, lower-cased address."""
    address = (email or "").strip().lower()
    if not address or not gravatar_enabled():
        return ""
    digest = hashlib.sha256(address.encode()).hexdigest()
    return f"{GRAVATAR_ORIGIN}/avatar/{digest}?s={2 * int(size)}&d=blank"


def face(identicon: str, photo: str = "", size: int = 40) -> SafeString:
    """The <img> of an identicon, with the Gravatar picture `photo` (an
    address from gravatar_url()) over it if there is one. Decorative: the
    name is beside it."""
    size = int(size)
    # Base64: nothing in the identicon's URL needs escaping in an attribute.
    drawn = (
        f'<img class="avatar" src="{identicon}" alt="" width="{size}" height="{size}">'
    )
    if not photo:
        return mark_safe(drawn)
    return mark_safe(
        f'<span class="face">{drawn}<img class="avatar avatar--photo" '
        f'src="{escape(photo)}" alt="" width="{size}" height="{size}" loading="lazy" '
        f'decoding="async" referrerpolicy="no-referrer"></span>'
    )


def avatar(email: str, name: str = "", size: int = 40) -> SafeString:
    """The face of the person with `email` (or `name`): see face()."""
    email = email or ""
    return face(identicon_url(email, name or ""), gravatar_url(email, size), size)
