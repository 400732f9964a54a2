"""How long a big WordPress import takes, and how much memory it needs.

    .venv/bin/python bench/wordpress_import.py [--posts 10000] [--comments 100000]

Writes a WXR export of that size to a temporary file (streamed, never held in
memory), imports it into a fresh SQLite database with `import_wordpress`, and
prints the time and the peak memory of this process (`ru_maxrss`). Targets on
the reference machine: under 2 minutes and under 500 MB.
"""

import argparse
import io
import os
import random
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PARAGRAPH = (
    "Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod "
    "tempor incididunt ut labore et dolore magna aliqua. Ut enim ad minim veniam."
)


def write_export(path: Path, posts: int, comments: int) -> None:
    rng = random.Random(6)
    per_post = comments // posts
    extra = comments - per_post * posts
    comment_id = 0
    with path.open("w", encoding="utf-8") as out:
        out.write(
            '<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0" '
            'xmlns:excerpt="http://wordpress.org/export/1.2/excerpt/" '
            'xmlns:content="http://purl.org/rss/1.0/modules/content/" '
            'xmlns:dc="http://purl.org/dc/elements/1.1/" '
            'xmlns:wp="http://wordpress.org/export/1.2/">\n<channel>\n'
            "<title>Bench blog</title><link>http://bench.example.com</link>\n"
            "<wp:wxr_version>1.2</wp:wxr_version>\n"
        )
        for n in range(5):
            out.write(
                f"<wp:author><wp:author_id>{n + 1}</wp:author_id>"
                f"<wp:author_login>author{n}</wp:author_login>"
                f"<wp:author_email>author{n}@example.com</wp:author_email>"
                "</wp:author>\n"
            )
        for n in range(50):
            parent = f"cat{n // 10}" if n >= 10 else ""
            out.write(
                f"<wp:category><wp:category_nicename>cat{n}</wp:category_nicename>"
                f"<wp:category_parent>{parent}</wp:category_parent>"
                f"<wp:cat_name><![CDATA[Category {n}]]></wp:cat_name></wp:category>\n"
            )
        for n in range(200):
            out.write(
                f"<wp:tag><wp:tag_slug>tag{n}</wp:tag_slug>"
                f"<wp:tag_name><![CDATA[Tag {n}]]></wp:tag_name></wp:tag>\n"
            )
        for post in range(1, posts + 1):
            day = f"20{10 + post % 14:02d}-{1 + post % 12:02d}-{1 + post % 28:02d}"
            body = "\n\n".join([PARAGRAPH] * 4) + "\nA second line."
            path = f"{day.replace('-', '/')}/post-{post}/"
            out.write(
                f"<item><title>Post number {post}</title>"
                f"<link>http://bench.example.com/{path}</link>"
                f"<dc:creator><![CDATA[author{post % 5}]]></dc:creator>"
                f"<content:encoded><![CDATA[{body}]]></content:encoded>"
                "<excerpt:encoded><![CDATA[]]></excerpt:encoded>"
                f"<wp:post_id>{post}</wp:post_id>"
                f"<wp:post_date>{day} 12:00:00</wp:post_date>"
                f"<wp:post_date_gmt>{day} 10:00:00</wp:post_date_gmt>"
                "<wp:comment_status>open</wp:comment_status>"
                f"<wp:post_name>post-{post}</wp:post_name>"
                "<wp:status>publish</wp:status><wp:post_type>post</wp:post_type>"
                f'<category domain="category" nicename="cat{post % 50}">'
                f"<![CDATA[Category {post % 50}]]></category>"
                f'<category domain="post_tag" nicename="tag{post % 200}">'
                f"<![CDATA[Tag {post % 200}]]></category>"
                f'<category domain="post_tag" nicename="tag{(post * 7) % 200}">'
                f"<![CDATA[Tag {(post * 7) % 200}]]></category>\n"
            )
            ids: list[int] = []
            for n in range(per_post + (1 if post <= extra else 0)):
                comment_id += 1
                parent = rng.choice(ids) if ids and rng.random() < 0.5 else 0
                ids.append(comment_id)
                out.write(
                    f"<wp:comment><wp:comment_id>{comment_id}</wp:comment_id>"
                    f"<wp:comment_author><![CDATA[Reader {comment_id % 997}]]>"
                    "</wp:comment_author>"
                    f"<wp:comment_author_email>r{comment_id % 997}@example.com"
                    "</wp:comment_author_email>"
                    f"<wp:comment_author_IP>192.0.2.{comment_id % 250}"
                    "</wp:comment_author_IP>"
                    f"<wp:comment_date_gmt>{day} {10 + n // 60:02d}:{n % 60:02d}:00"
                    "</wp:comment_date_gmt>"
                    f"<wp:comment_content><![CDATA[{PARAGRAPH}]]></wp:comment_content>"
                    "<wp:comment_approved>1</wp:comment_approved>"
                    "<wp:comment_type></wp:comment_type>"
                    f"<wp:comment_parent>{parent}</wp:comment_parent>"
                    "</wp:comment>\n"
                )
            out.write("</item>\n")
        out.write("</channel>\n</rss>\n")


def main() -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=10_000)
    parser.add_argument("--comments", type=int, default=100_000)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="inkwell-bench-") as tmp:
        tmp = Path(tmp)
        export = tmp / "export.xml"
        started = time.perf_counter()
        write_export(export, options.posts, options.comments)
        written = time.perf_counter() - started
        os.environ["DATABASE_URL"] = f"sqlite:///{tmp / 'bench.sqlite3'}"
        os.environ["MEDIA_ROOT"] = str(tmp / "media")
        os.environ["CACHE_DIR"] = str(tmp / "cache")
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "blog.settings")
        sys.path.insert(0, str(ROOT))
        import django
        from django.core.management import call_command

        django.setup()
        call_command("migrate", verbosity=0)
        started = time.perf_counter()
        call_command("import_wordpress", str(export), stdout=io.StringIO())
        seconds = time.perf_counter() - started
        from blog.models import Post
        from comments.models import Comment

        results = {
            "export_mb": round(export.stat().st_size / 1e6, 1),
            "write_export_s": round(written, 1),
            "posts": Post.objects.count(),
            "comments": Comment.objects.count(),
            "import_s": round(seconds, 1),
            # Linux reports kilobytes.
            "peak_rss_mb": round(
                resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            ),
        }
    width = max(map(len, results))
    for key, value in results.items():
        print(f"{key:<{width}}  {value}")
    return results


if __name__ == "__main__":
    main()
