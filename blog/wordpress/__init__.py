"""Moving a WordPress blog into Inkwell, one job a module.

- `wxr`: reading a WordPress export (WXR) into plain records;
- `content`: WordPress's post text as the HTML WordPress shows;
- `posts`: writing users, categories, tags, posts and redirects;
- `pages`: writing pages (with their redirects) and menus;
- `export`: the way back out, what Inkwell holds as a WXR 1.2 file.

The comments app writes the comments (`comments/wordpress.py`), through the
`posts_written` signal. `import_wordpress()` is the one way in, for the
`import_wordpress` command as for anything else.
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
