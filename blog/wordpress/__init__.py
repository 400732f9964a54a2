"""Moving a WordPress blog into Inkwell, one job a module: `wxr` reads an
export, `content` converts post text, `posts` writes users, terms, posts and
redirects, `pages` pages and menus, `export` is the way back out. The comments
app writes the comments (comments/wordpress.py, through `posts_written`).
`import_wordpress()` is the one way in.
"""

from __future__ import annotations

from pathlib import Path

from blog.wordpress.export import exporting_items, write_export
from blog.wordpress.posts import Report, WordPressImport, posts_written
from blog.wordpress.wxr import ExportError

__all__ = [
    "ExportError",
    "Report",
    "exporting_items",
    "import_wordpress",
    "posts_written",
    "write_export",
]


def import_wordpress(path: Path | str, *, dry_run: bool = False, **options) -> Report:
    """Import the export at `path` (all of it, or nothing: `ExportError`);
    `options` are `WordPressImport`'s."""
    from blog import pagecache

    report = WordPressImport(path, **options).run(dry_run=dry_run)
    if not dry_run:
        # Bulk writes send no signals: drop every cached page ourselves.
        pagecache.forget_all_pages()
    return report
