"""Our thread renderer against django-comments-xtd's stock one, same data.

    /work/main/.venv/bin/python bench/comments_render.py [--comments 1000]

Builds one post with N comments (a quarter top-level, replies down to the
fifth level, half by registered users) in a throwaway SQLite database, then
renders the whole discussion both ways: ours (`comments.threads`, every
thread on one page, as the post page renders it for an anonymous reader) and
the stock `{% render_xtdcomment_tree for post %}`. Ours is measured with the
shared cache of rendered threads emptied before every run (the thread read
and rendered each time), and once more as the next reader gets it, from that
cache. Prints the time and the number of queries of each; ours, uncached,
must be at least ten times faster.
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import time

import sandbox

WORKDIR = sandbox.start()

from django.conf import settings  # noqa: E402
from django.contrib.auth.models import AnonymousUser  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.template import RequestContext, Template  # noqa: E402
from django.test import RequestFactory  # noqa: E402
from django.test.utils import CaptureQueriesContext, override_settings  # noqa: E402
from django.urls import include, path  # noqa: E402

from blog import markup  # noqa: E402
from blog.pagecache import forget_all_pages  # noqa: E402

# The stock tree links each comment to xtd's reply view, so its URLs must exist.
urlpatterns = [
    path("xtd/", include("django_comments_xtd.urls")),
    path("", include("blog.urls")),
]

# What the post page renders of the thread (_discussion.html): the page of
# comments with their likes, rendered by comments.threads.
OURS = Template(
    "{% load inkwell_comments %}{% get_discussion post as discussion %}"
    "{{ discussion.page.html }}"
)
STOCK = Template("{% load comments_xtd %}{% render_xtdcomment_tree for post %}")


def build(comments: int):
    from tests.factories import make_discussion, make_post, make_user

    post = make_post(title="A busy discussion")
    registered = make_user(username="regular", first_name="Regular", last_name="Reader")
    # Thread sizes 2 and 6 alternate: a quarter of the comments are top-level
    # and the six-comment threads reach the deepest level (4).
    make_discussion(
        post=post, comments=comments, users=(registered, None), thread_sizes=(2, 6)
    )
    return post


def render(template: Template, post, cached: bool = False) -> tuple[float, int, str]:
    if not cached:
        forget_all_pages()  # as any change to the site does
    request = RequestFactory().get(post.get_absolute_url())
    request.user = AnonymousUser()
    context = RequestContext(request, {"post": post})
    with CaptureQueriesContext(connection) as queries:
        start = time.perf_counter()
        html = template.render(context)
        elapsed = time.perf_counter() - start
    return elapsed, len(queries), html


def summary(times: list[float], count: int, html: str) -> dict:
    return {
        "median": statistics.median(times),
        "best": min(times),
        "queries": count,
        "shown": len(re.findall(r'id="c\d+"', html)),
    }


def measure(post, runs: int) -> tuple[dict, dict]:
    """Ours and stock in turns, so that a busy machine slows both alike."""
    times: dict[str, list[float]] = {"ours": [], "stock": []}
    last = {}
    for _ in range(runs):
        for name, template in (("ours", OURS), ("stock", STOCK)):
            elapsed, count, html = render(template, post)
            times[name].append(elapsed)
            last[name] = (count, html)
    return tuple(summary(times[name], *last[name]) for name in ("ours", "stock"))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--comments", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()

    call_command("migrate", verbosity=0)
    post = build(args.comments)
    with override_settings(
        ROOT_URLCONF=__name__, INKWELL_COMMENT_THREADS_PER_PAGE=args.comments
    ):
        markup.render_comment.cache_clear()
        cold, _, _ = render(OURS, post)
        ours, stock = measure(post, args.runs)
        warm = [render(OURS, post, cached=True) for _ in range(args.runs)]

    ratio = stock["median"] / ours["median"]
    print(
        f"{args.comments} comments on one post, whole discussion rendered "
        f"(median of {args.runs} runs; SQLite; DEBUG off)"
    )
    print(f"{'renderer':<36}{'median':>10}{'best':>10}{'queries':>9}{'shown':>7}")
    for name, row in (
        ("ours (comments.threads)", ours),
        ("stock render_xtdcomment_tree", stock),
    ):
        print(
            f"{name:<36}{row['median'] * 1000:>8.1f}ms{row['best'] * 1000:>8.1f}ms"
            f"{row['queries']:>9}{row['shown']:>7}"
        )
    print(f"ours, first render (Markdown cache cold): {cold * 1000:.1f}ms")
    print(
        "ours, next anonymous reader (rendered thread cached): "
        f"{statistics.median(t for t, _, _ in warm) * 1000:.2f}ms, "
        f"{warm[-1][1]} queries"
    )
    print(f"ours is {ratio:.1f}x faster")
    if ours["shown"] != stock["shown"]:
        print("the two renderers show different numbers of comments", file=sys.stderr)
        return 1
    return 0 if ratio >= 10 else 1


if __name__ == "__main__":
    try:
        sys.exit(main())
    finally:
        WORKDIR.cleanup()
        del settings
