"""Static files in production: WhiteNoise's compressed, hashed files, each URL
worked out once per process.

`{% static %}` asks the manifest storage for a URL on every use (five times on
a post page, ~70 µs each); the manifest is read at start-up and cannot change
while the process runs, so the answers are kept.
"""

from whitenoise.storage import CompressedManifestStaticFilesStorage


class StaticFilesStorage(CompressedManifestStaticFilesStorage):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._urls: dict[str, str] = {}

    def url(self, name: str, force: bool = False) -> str:
        if force:
            return super().url(name, force)
        if name not in self._urls:
            self._urls[name] = super().url(name)
        return self._urls[name]
