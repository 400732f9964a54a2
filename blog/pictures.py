"""Pictures in several sizes: made once, when a picture is stored, and
described in the pages so the browser picks the one it needs.

When a picture joins the media library (an editor upload, a featured
picture, a file copied by a WordPress import, or `manage.py
make_picture_sizes` for what was stored before), narrower copies are
written next to it through the storage API: `name-800w.webp` or
`name-800w.jpg`, at each of WIDTHS narrower than the original (never
wider), each in WebP when that is smaller than the original's own format,
and a full-width WebP when that beats the original. The original's width
and height and the copies are recorded (MediaFile.width/height/variants,
and Post/Page.featured_image_sizes for featured pictures), so pages emit
`width`, `height`, `srcset` and `sizes` without opening any file or making
a query per picture: nothing jumps as pictures arrive, and a phone fetches
a 480-pixel copy instead of a 2400-pixel original.
"""

from __future__ import annotations

import logging
import posixpath
import re
from functools import lru_cache
from io import BytesIO
from urllib.parse import unquote

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.utils.html import escape
from PIL import Image, ImageOps, UnidentifiedImageError

logger = logging.getLogger(__name__)

WIDTHS = (480, 800, 1200, 1600)
QUALITY = 82
# Formats we make copies of, and how each copy is written when WebP is not
# smaller. Animated pictures keep their one file: a still copy would lose
# the animation.
OWN_FORMATS = {"JPEG": ("JPEG", "jpg"), "MPO": ("JPEG", "jpg"), "PNG": ("PNG", "png"),
               "WEBP": ("WEBP", "webp")}  # fmt: skip

# What the layout gives a picture (static/css/site.css): the post's column
# (--measure, 40rem, inside 1.25rem of padding each side), a card of the
# listing grid, and the first, wider card.
SIZES_POST = "(min-width: 42.5rem) 40rem, calc(100vw - 2.5rem)"
SIZES_CARD = "(min-width: 48rem) 24rem, calc(100vw - 2.5rem)"
SIZES_LEAD = "(min-width: 48rem) 45rem, calc(100vw - 2.5rem)"


def variant_name(name: str, width: int, extension: str) -> str:
    stem = posixpath.splitext(name)[0]
    return f"{stem}-{width}w.{extension}"


def _encoded(image: Image.Image, out_format: str) -> bytes:
    buffer = BytesIO()
    options: dict = {}
    if out_format in {"JPEG", "WEBP"}:
        options["quality"] = QUALITY
    if out_format == "JPEG" and image.mode not in {"RGB", "L"}:
        image = image.convert("RGB")
    if out_format == "PNG":
        options["optimize"] = True
    image.save(buffer, out_format, **options)
    return buffer.getvalue()


def _store(name: str, data: bytes) -> str:
    if default_storage.exists(name):  # made again (the command, a re-import)
        default_storage.delete(name)
    return default_storage.save(name, ContentFile(data))


def make_sizes(name: str) -> dict | None:
    """Write the smaller copies of the stored picture `name`; return its
    record: {"name", "width", "height", "variants": [[width, name], ...]}
    (narrowest first), or None if it is not a picture Pillow reads."""
    try:
        with default_storage.open(name) as stored:
            original_bytes = stored.read()
        with Image.open(BytesIO(original_bytes)) as picture:
            picture.load()
            image = ImageOps.exif_transpose(picture)
            source_format = picture.format
            animated = getattr(picture, "is_animated", False)
    except (OSError, UnidentifiedImageError, ValueError, Image.DecompressionBombError):
        logger.warning("Cannot read %s to make its sizes", name, exc_info=True)
        return None
    width, height = image.size
    record = {"name": name, "width": width, "height": height, "variants": []}
    if animated or source_format not in OWN_FORMATS:
        return record
    own_format, own_extension = OWN_FORMATS[source_format]
    if image.mode == "P":
        image = image.convert("RGBA")
    for target in [w for w in WIDTHS if w < width] + [width]:
        if target == width:
            if own_format == "WEBP":
                break
            scaled = image
        else:
            scaled = image.resize(
                (target, max(1, round(height * target / width))),
                Image.Resampling.LANCZOS,
            )
        webp = _encoded(scaled, "WEBP")
        if target == width:
            # The full width only as WebP, and only when it saves bytes.
            if len(webp) < len(original_bytes):
                stored = _store(variant_name(name, target, "webp"), webp)
                record["variants"].append([target, stored])
            break
        own = webp if own_format == "WEBP" else _encoded(scaled, own_format)
        data, extension = (
            (webp, "webp") if len(webp) < len(own) else (own, own_extension)
        )
        stored = _store(variant_name(name, target, extension), data)
        record["variants"].append([target, stored])
    return record


def delete_sizes(variants) -> None:
    for _width, name in variants or ():
        try:
            default_storage.delete(name)
        except OSError:
            logger.warning("Could not delete %s", name, exc_info=True)


def srcset(record: dict | None) -> str:
    """The `srcset` of a recorded picture: its copies and the original."""
    if not record or not record.get("width"):
        return ""
    candidates = {w: default_storage.url(n) for w, n in record.get("variants") or ()}
    candidates.setdefault(record["width"], default_storage.url(record["name"]))
    if len(candidates) < 2:
        return ""
    return ", ".join(f"{url} {w}w" for w, url in sorted(candidates.items()))


def attribute_pairs(record: dict | None, sizes: str) -> list[tuple[str, str]]:
    """width, height, srcset and sizes for an <img> of a recorded picture
    (unescaped), or [] when nothing is known."""
    if not record or not record.get("width") or not record.get("height"):
        return []
    pairs = [("width", str(record["width"])), ("height", str(record["height"]))]
    candidates = srcset(record)
    if candidates:
        pairs += [("srcset", candidates), ("sizes", sizes)]
    return pairs


def attributes(record: dict | None, sizes: str) -> str:
    """`attribute_pairs` ready to go into a tag (escaped)."""
    return " ".join(
        f'{key}="{escape(value)}"' for key, value in attribute_pairs(record, sizes)
    )


# An <img> as nh3 writes it: attributes in double quotes, values escaped.
_IMG = re.compile(r"<img(\s[^>]*?)\s*/?>")
_ATTRIBUTE = re.compile(r'\s([a-z-]+)="([^"]*)"')


def _media_name(url: str) -> str | None:
    prefix = settings.MEDIA_URL
    if not prefix.startswith("/") or not url.startswith(prefix) or "?" in url:
        return None
    return unquote(url[len(prefix) :]) or None


@lru_cache(maxsize=2048)
def sized(html: str) -> str:
    """Rendered post HTML with its pictures from our media library given
    their width, height, srcset and sizes, and loaded lazily; pictures from
    elsewhere are left as they are. One query for the whole text, only when
    it shows pictures of ours; memoised per process."""
    if "<img" not in html:
        return html
    found: dict[str, dict] = {}
    for match in _IMG.finditer(html):
        src = dict(_ATTRIBUTE.findall(match.group(1))).get("src", "")
        name = _media_name(src.replace("&amp;", "&"))
        if name:
            found[src] = name
    if not found:
        return html
    from blog.models import MediaFile  # blog.models imports blog.markup

    records = {
        media.name: media.record()
        for media in MediaFile.objects.filter(name__in=set(found.values()))
    }

    def rewrite(match: re.Match) -> str:
        attrs = match.group(1)
        given = dict(_ATTRIBUTE.findall(attrs))
        record = records.get(found.get(given.get("src", ""), ""))
        if record is None:
            return match.group(0)
        pairs = attribute_pairs(record, SIZES_POST)
        if "width" in given or "height" in given:
            # The author sized it: keep theirs, add only the choice of files.
            pairs = [(k, v) for k, v in pairs if k not in {"width", "height"}]
        pairs += [("loading", "lazy"), ("decoding", "async")]
        extra = "".join(
            f' {key}="{escape(value)}"' for key, value in pairs if key not in given
        )
        return f"<img{attrs}{extra}>"

    return _IMG.sub(rewrite, html)
