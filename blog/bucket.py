"""Media in an S3-compatible bucket (MEDIA_STORAGE_URL, blog/settings.py),
which app servers on several machines share.

A module of its own, loaded only when the setting names a bucket: boto3 and
botocore cost each process 15 MB, which a site keeping its media on the
local disk has no use for.
"""

from __future__ import annotations

from urllib.parse import quote

from botocore.exceptions import BotoCoreError, ClientError
from django.conf import settings
from storages.backends.s3 import S3Storage

from blog.media import MediaUnavailable


class MediaStorage(S3Storage):
    """An S3-compatible bucket whose files the site serves at MEDIA_URL.

    Like FileSystemStorage, it never overwrites: a second file under a
    taken name gets a name of its own.
    """

    file_overwrite = False

    def url(self, name: str, parameters=None, expire=None, http_method=None) -> str:
        return settings.MEDIA_URL + quote(name.replace("\\", "/"))

    def _open(self, name: str, mode: str = "rb"):
        # A missing file is FileNotFoundError already (django-storages).
        try:
            return super()._open(name, mode)
        except (BotoCoreError, ClientError) as error:
            raise MediaUnavailable(str(error)) from error
