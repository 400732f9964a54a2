"""The author's editor endpoints: preview and image upload, staff only.

They stand in for django-markdownx's own views under the same URL names, so the
admin's Markdown widget posts here (ARCHITECTURE.md, "Library defects"): the stock
preview returns unsanitised HTML to anyone, and the stock upload stores
whatever the client calls an image under the client's file extension.

Here the preview goes through `blog.markup.markdownify` (sanitised), and an
upload is trusted only as far as Pillow can read it: the format is detected
from the bytes, the picture is decoded and encoded again from its pixels
alone (EXIF, XMP, JPEG and GIF comments and anything hidden after the image
data are dropped; an ICC profile is kept only if it is one), and the stored
name is random with an extension we choose.
"""

import logging
import posixpath
import uuid
from io import BytesIO

from django import forms
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.http import (
    HttpRequest,
    HttpResponse,
    HttpResponseBadRequest,
    HttpResponseForbidden,
    JsonResponse,
)
from django.template.defaultfilters import filesizeformat
from django.utils import timezone, translation
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST
from PIL import Image, ImageCms, ImageOps, ImageSequence

from blog import markup
from blog.models import MediaFile

logger = logging.getLogger(__name__)

# What Pillow may detect -> the format we write and the extension we store.
# MPO is how Pillow reads many phone photos (a JPEG with extra pictures); we
# keep the main picture as a plain JPEG.
FORMATS = {
    "JPEG": ("JPEG", "jpg"),
    "MPO": ("JPEG", "jpg"),
    "PNG": ("PNG", "png"),
    "WEBP": ("WEBP", "webp"),
    "GIF": ("GIF", "gif"),
}
ANIMATED_FORMATS = {"GIF", "PNG", "WEBP"}
# Pillow opens MPO through its JPEG opener.
OPENERS = ["JPEG", "PNG", "WEBP", "GIF"]

# Checked from the header, before any pixel is decoded: a 40-megapixel photo
# passes; a small file that would unpack to gigabytes (a "decompression bomb")
# does not. Animations also have a budget for all their frames together.
MAX_PIXELS = 40_000_000
MAX_ANIMATION_PIXELS = 100_000_000

# Inserted as the alt text of an uploaded image, in the site's language; the
# admin refuses to save a post that still contains it (in any language we
# ship: the site's may have changed since), so the author writes a real
# description.
ALT_PLACEHOLDER = _("Describe this image")

UNREADABLE = _(
    "This file is not a picture we can use. Upload a JPEG, PNG, WebP or GIF image."
)


def alt_placeholders() -> set[str]:
    """`ALT_PLACEHOLDER` in English and in every language we ship."""
    found = {"Describe this image"}
    for code, _name in settings.LANGUAGES:
        with translation.override(code):
            found.add(str(ALT_PLACEHOLDER))
    return found


def is_editor(user) -> bool:
    return user.is_active and user.is_staff


class ImageRejected(Exception):
    pass


class ImageUploadForm(forms.Form):
    """One picture for a post body: checked, re-encoded, then stored."""

    image = forms.FileField(
        error_messages={
            "required": _("Choose a picture to upload."),
            "empty": _("The file is empty."),
            "invalid": _("Choose a picture to upload."),
        }
    )

    def clean_image(self):
        upload = self.cleaned_data["image"]
        self.encoded, self.extension = clean_picture(upload)
        return upload

    def save(self, uploaded_by=None) -> str:
        """Store the re-encoded picture under a random name, in the media
        library too; return its URL."""
        folder = timezone.now().strftime(settings.MARKDOWNX_MEDIA_PATH)
        name = posixpath.join(folder, f"{uuid.uuid4().hex}.{self.extension}")
        stored = default_storage.save(name, ContentFile(self.encoded))
        MediaFile.objects.register(
            stored, size=len(self.encoded), uploaded_by=uploaded_by, forget=False
        )
        return default_storage.url(stored)


def clean_picture(upload) -> tuple[bytes, str]:
    """An uploaded picture checked and re-encoded (`reencode`), for a form's
    clean method: what is refused raises ValidationError with the reason."""
    limit = settings.MARKDOWNX_UPLOAD_MAX_SIZE
    if upload.size > limit:
        raise forms.ValidationError(
            gettext(
                "This file is %(size)s; pictures can be at most %(limit)s. Make it "
                "smaller and try again."
            )
            % {"size": filesizeformat(upload.size), "limit": filesizeformat(limit)}
        )
    try:
        return reencode(upload)
    except ImageRejected as rejection:
        raise forms.ValidationError(str(rejection)) from None


def _open(upload) -> Image.Image:
    upload.seek(0)
    return Image.open(upload, formats=OPENERS)


def reencode(upload) -> tuple[bytes, str]:
    """Detect the picture's format from its bytes and encode it again.

    Returns the new file's bytes and its extension; raises ImageRejected with
    a message for the author when the file is not a picture we accept.
    """
    try:
        # verify() checks the file's structure without decoding it; it leaves
        # the image unusable, hence the second open.
        _open(upload).verify()
        image = _open(upload)
        width, height = image.size
        if width * height > MAX_PIXELS:
            raise ImageRejected(
                gettext(
                    "This picture is %(width)s by %(height)s pixels; the limit is "
                    "%(limit)s megapixels. Make it smaller and try again."
                )
                % {"width": width, "height": height, "limit": MAX_PIXELS // 1_000_000}
            )
        return _encode(image)
    except ImageRejected:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ImageRejected(
            gettext(
                "This picture has too many pixels; the limit is %(limit)s megapixels."
            )
            % {"limit": MAX_PIXELS // 1_000_000}
        ) from None
    except Exception:
        # Untrusted bytes through an image decoder: whatever it raises
        # (unknown format, truncated or corrupt data) means the same thing.
        # Logged with the traceback, so that a bug of ours would still show.
        logger.warning("Refused an upload that Pillow could not read", exc_info=True)
        raise ImageRejected(UNREADABLE) from None


def _encode(image: Image.Image) -> tuple[bytes, str]:
    out_format, extension = FORMATS[image.format]
    size = tuple(settings.MARKDOWNX_IMAGE_MAX_SIZE["size"])
    quality = settings.MARKDOWNX_IMAGE_MAX_SIZE.get("quality", 85)
    options: dict = {}
    if out_format in {"JPEG", "WEBP"}:
        options["quality"] = quality
    if getattr(image, "is_animated", False) and out_format in ANIMATED_FORMATS:
        frames, durations = _frames(image, size)
        options.update(
            save_all=True,
            append_images=frames[1:],
            duration=durations,
        )
        if "loop" in image.info:  # absent: the animation plays once
            options["loop"] = image.info["loop"]
        for frame in frames:
            _pixels_only(frame)
        if out_format == "GIF":
            # Frames come out whole (Pillow composites them), so each one
            # replaces the last instead of being drawn over it.
            options["disposal"] = 2
        first = frames[0]
    else:
        first = ImageOps.exif_transpose(image)  # photos stand the right way up
        profile = colour_profile(first.info.get("icc_profile"))
        first = _pixels_only(_fit(first, size))
        if out_format == "JPEG" and first.mode not in {"RGB", "L"}:
            first = first.convert("RGB")
        elif profile:
            options["icc_profile"] = profile  # colours, not personal data
    buffer = BytesIO()
    first.save(buffer, out_format, **options)
    return buffer.getvalue(), extension


# What an encoder may take from a picture's `info`: Pillow writes the rest
# (JPEG and GIF comments, a PNG's ICC profile, XMP) back when it saves.
KEPT_INFO = {"transparency"}


def _pixels_only(image: Image.Image) -> Image.Image:
    image.info = {key: image.info[key] for key in KEPT_INFO & image.info.keys()}
    return image


def colour_profile(data: bytes | None) -> bytes | None:
    """`data` if it is an ICC colour profile, else None: the bytes are
    whatever the uploader put there, and only a real profile is worth
    keeping (it says how to show the colours)."""
    if not data:
        return None
    try:
        ImageCms.ImageCmsProfile(BytesIO(data))
    except (ImageCms.PyCMSError, OSError, ValueError, TypeError):
        return None
    return data


def _frames(image: Image.Image, size: tuple[int, int]) -> tuple[list, list[int]]:
    frames, durations, decoded = [], [], 0
    for frame in ImageSequence.Iterator(image):
        decoded += frame.width * frame.height
        if decoded > MAX_ANIMATION_PIXELS:
            raise ImageRejected(
                gettext(
                    "This animation is too long or too large. Shorten it, make it "
                    "smaller, or upload a still picture."
                )
            )
        frame.load()  # WebP reads a frame's duration as it decodes it
        durations.append(frame.info.get("duration", 100))
        frames.append(_fit(frame.copy(), size))
    return frames, durations


def _fit(image: Image.Image, size: tuple[int, int]) -> Image.Image:
    if image.width <= size[0] and image.height <= size[1]:
        return image
    if image.mode in {"1", "P"}:
        # Palette pictures can only be resized pixel by pixel; go to full colour.
        image = image.convert("RGBA")
    image.thumbnail(size, Image.Resampling.LANCZOS)
    return image


@never_cache
@require_POST
def preview(request: HttpRequest) -> HttpResponse:
    """The editor's live preview: the post body as readers will see it."""
    if not is_editor(request.user):
        return HttpResponseForbidden(
            gettext("Only signed-in staff can preview posts."),
            content_type="text/plain",
        )
    if "content" not in request.POST:
        return HttpResponseBadRequest(
            gettext("Nothing to preview: send the Markdown in the 'content' field."),
            content_type="text/plain",
        )
    # The widget sends the whole text after every pause in typing: each one
    # is new, so it bypasses markdownify's cache instead of filling it.
    render = markup.markdownify.__wrapped__
    return HttpResponse(render(request.POST["content"]))


@never_cache
@require_POST
def upload_image(request: HttpRequest) -> JsonResponse:
    """A picture dropped or pasted into the editor.

    Answers what the markdownx widget expects: `{"image_code": "![…](URL)"}`,
    or `{"error": "…"}` with status 400 (403 for anyone but staff).
    """
    if not is_editor(request.user):
        return JsonResponse(
            {"error": gettext("Only signed-in staff can upload pictures.")}, status=403
        )
    form = ImageUploadForm(files=request.FILES)
    if not form.is_valid():
        return JsonResponse({"error": form.errors["image"][0]}, status=400)
    url = form.save(uploaded_by=request.user)
    return JsonResponse({"image_code": f"![{ALT_PLACEHOLDER}]({url})"})
