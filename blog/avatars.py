"""Faces for commenters, authors and likers, made here: an identicon drawn
from a hash of the email address (or the name when there is none). Nothing
is sent anywhere; the picture is an SVG data URL, so it costs no request
(the CSP allows `data:` images, blog/settings.py).

A 5 by 5 grid, mirrored left to right, in one of a set of colours chosen for
contrast on both colour schemes (static/css/site.css gives the circle its
background).
"""

from __future__ import annotations

import hashlib
from functools import lru_cache
from urllib.parse import quote

from django.utils.safestring import SafeString, mark_safe

COLOURS = (
    "#b5482a", "#2f7d6b", "#4a63b5", "#8a4fb0", "#b0781f",
    "#3b7f2f", "#b03a6e", "#27728f", "#7a6a2a", "#5b5fc7",
)  # fmt: skip


def _key(email: str, name: str) -> bytes:
    return (email.strip().lower() or f"name:{name.strip().lower()}").encode()


@lru_cache(maxsize=4096)
def identicon_url(email: str, name: str = "") -> str:
    """The identicon of `email` (or `name`) as a data: URL."""
    digest = hashlib.sha256(_key(email, name)).digest()
    colour = COLOURS[digest[0] % len(COLOURS)]
    cells = []
    bits = int.from_bytes(digest[1:5], "big")
    for row in range(5):
        for column in range(3):
            if bits & 1:
                cells.append(f"M{column + 1} {row + 1}h1v1h-1z")
                if column < 2:
                    cells.append(f"M{5 - column} {row + 1}h1v1h-1z")
            bits >>= 1
    svg = (
        "<svg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 7 7'>"
        f"<rect width='7' height='7' fill='{colour}' fill-opacity='.16'/>"
        f"<path fill='{colour}' d='{''.join(cells)}'/></svg>"
    )
    return "data:image/svg+xml," + quote(svg, safe="/:=',")


def avatar(email: str, name: str = "", size: int = 40) -> SafeString:
    """An <img> of the identicon, decorative (the name is beside it)."""
    # quote() has encoded everything an attribute in double quotes must not
    # hold (", <, >, &): the URL goes in as it is.
    url = identicon_url(email or "", name or "")
    return mark_safe(
        f'<img class="avatar" src="{url}" alt="" width="{int(size)}" '
        f'height="{int(size)}">'
    )
