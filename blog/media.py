"""Media (uploaded pictures): where they are kept, and the view that serves them.

They are kept on the local disk (MEDIA_ROOT) by default, or in an
S3-compatible bucket when MEDIA_STORAGE_URL is set (blog/settings.py,
blog/bucket.py), which app servers on several machines share. Either way
they are served by the site itself at MEDIA_URL (/media/…): pages keep
same-origin picture links (the CSP allows images from 'self' only, and
public pages make no third-party requests), and a post's links stay good
when the storage changes. A caching proxy in front takes the load off a busy
site.
"""

from __future__ import annotations

import logging
import mimetypes

from django.core.exceptions import SuspiciousOperation
from django.core.files.storage import default_storage
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.views.decorators.http import require_safe

logger = logging.getLogger(__name__)


class MediaUnavailable(Exception):
    """The storage keeping the media did not answer (blog/bucket.py)."""


@require_safe
def serve(request: HttpRequest, path: str) -> HttpResponse:
    """One stored file, from whichever storage keeps the media."""
    try:
        stored = default_storage.open(path)
    except (OSError, SuspiciousOperation, ValueError):
        # Missing, a folder, or a path that leaves the media.
        raise Http404("No such file.") from None
    except MediaUnavailable as error:
        logger.warning("Media storage unavailable for %s: %s", path, error)
        return HttpResponse(
            "The picture cannot be fetched just now.",
            content_type="text/plain",
            status=503,
            headers={"Retry-After": "30"},
        )
    content_type = mimetypes.guess_type(path)[0] or "application/octet-stream"
    response = FileResponse(stored, content_type=content_type)
    # A name is reused only when a file is replaced (a re-import): an hour.
    response["Cache-Control"] = "public, max-age=3600"
    return response
