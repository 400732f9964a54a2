"""export_wordpress writes the site as WXR 1.2; importing it gives it back."""

import datetime
import io

import pytest
from django.contrib.auth import get_user_model
from django.contrib.redirects.models import Redirect
from django.core.management import call_command
from django.utils import timezone
from taggit.models import Tag

from blog.models import Category, Page, Post
from blog.wordpress.wxr import Author, Channel, Item, Term, read_export
from comments.models import Comment
from tests.factories import make_category, make_comment, make_post, make_user
from tests.test_wordpress_import import run_import

pytestmark = pytest.mark.django_db

BODY = """Intro with *emphasis* and a [link](https://example.com/).

```python
def f():
    return 1
```

- one
- two
"""


def at(days: int) -> datetime.datetime:
    when = timezone.now() - datetime.timedelta(days=days)
    return when.replace(microsecond=0)


def build_site():
    alice = make_user(username="alice", first_name="Alice", last_name="Liddell")
    bob = make_user(username="bob", email="bob@example.com")
    news = make_category(name="News", slug="news", description="What is new.")
    local = make_category(name="Local", slug="local", parent=news)
    network = make_category(name="网络", slug="网络")
    many = make_post(
        title="In three categories",
        slug="three",
        author=alice,
        category=local,
        body=BODY,
        tags=("django", "运维"),
        published_at=at(10),
        sticky=True,
    )
    many.categories.set([news, network])
    make_post(
        title="Private one",
        slug="private",
        author=bob,
        status="private",
        published_at=at(9),
    )
    make_post(
        title="Locked",
        slug="locked",
        author=bob,
        password="enter",
        published_at=at(8),
        allow_comments=False,
    )
    make_post(title="A draft", slug="draft", author=alice, status="draft")
    make_post(
        title="Later",
        slug="later",
        author=alice,
        published_at=timezone.now().replace(microsecond=0)
        + datetime.timedelta(days=30),
    )
    renamed = make_post(
        title="Renamed", slug="first-name", author=alice, published_at=at(7)
    )
    renamed.slug = "second-name"
    renamed.save()  # a redirect from the old address
    first = make_comment(
        post=many,
        name="Reader",
        email="r@example.com",
        body="Hello *world*",
        submit_date=at(5),
    )
    make_comment(
        post=many, parent=first, name="Replier", body="A reply", submit_date=at(4)
    )
    make_comment(
        post=many, name="Waiting", body="Held one", state="held", submit_date=at(3)
    )
    make_comment(post=many, name="Spammer", body="Buy", state="spam", submit_date=at(2))
    make_comment(
        post=many, name="Other blog", body="Ping", reason="pingback", submit_date=at(1)
    )
    return many


def snapshot() -> dict:
    """The site as readers and editors see it, without database ids."""

    def comment_key(comment):
        return (comment.user_name, comment.submit_date)

    by_pk = {c.pk: c for c in Comment.objects.all()}
    posts = {}
    for post in Post.objects.select_related("author", "category"):
        comments = sorted(
            (
                c.user_name,
                c.user_email,
                c.submit_date,
                c.state,
                c.is_public,
                c.reason if c.reason in {"pingback", "trackback"} else "",
                comment_key(by_pk[c.parent_id]) if c.parent_id != c.pk else None,
                " ".join(c.html.split()),
            )
            for c in Comment.objects.for_post(post)
        )
        posts[post.slug] = {
            "title": post.title,
            "status": post.status,
            "published_at": post.published_at,
            "sticky": post.sticky,
            "password": post.password,
            "author": post.author.username,
            "category": post.category.slug if post.category else None,
            "categories": sorted(c.slug for c in post.categories.all()),
            "tags": sorted(t.slug for t in post.tags.all()),
            "body_html": post.body_html,
            "excerpt": post.excerpt,
            "allow_comments": post.allow_comments,
            "comments": comments,
        }
    return {
        "users": {
            u.username: (u.email, u.get_full_name())
            for u in get_user_model().objects.all()
        },
        "categories": {
            c.slug: (c.name, c.description, c.parent.slug if c.parent else None)
            for c in Category.objects.select_related("parent")
        },
        "tags": dict(Tag.objects.values_list("slug", "name")),
        "posts": posts,
        "redirects": {
            (r.old_path, r.new_path)
            for r in Redirect.objects.all()
            if not r.old_path.startswith("/?")
        },
    }


def export_text() -> str:
    out = io.StringIO()
    call_command("export_wordpress", stdout=out)
    return out.getvalue()


def test_export_then_import_into_an_empty_site_gives_the_same_site(tmp_path):
    build_site()
    before = snapshot()
    path = tmp_path / "inkwell.xml"
    call_command("export_wordpress", str(path), stdout=io.StringIO())
    for model in (Comment, Post, Tag, Redirect, Page):
        model.objects.all().delete()
    Category.objects.update(parent=None)
    Category.objects.all().delete()
    get_user_model().objects.all().delete()
    run_import(path)
    after = snapshot()
    assert after["users"] == before["users"]
    assert after["categories"] == before["categories"]
    assert after["tags"] == before["tags"]
    assert after["posts"].keys() == before["posts"].keys()
    for slug, post in before["posts"].items():
        assert after["posts"][slug] == post, slug
    assert before["redirects"] <= after["redirects"]


def test_the_export_reads_as_a_valid_wordpress_export(tmp_path):
    """What WordPress's importer tests expect of a valid file (its
    tests/test-parser.php): the version, authors with logins, terms with
    their slugs and parents, items with ids, types, statuses and terms."""
    many = build_site()
    path = tmp_path / "inkwell.xml"
    path.write_text(export_text(), encoding="utf-8")
    records = list(read_export(path))
    channel = records[0]
    assert isinstance(channel, Channel) and channel.version == "1.2"
    authors = [r for r in records if isinstance(r, Author)]
    assert sorted(a.login for a in authors) == ["alice", "bob"]
    terms = {(t.taxonomy, t.nicename): t for t in records if isinstance(t, Term)}
    assert terms[("category", "local")].parent == "news"
    assert ("category", "%e7%bd%91%e7%bb%9c") in terms
    assert ("post_tag", "%e8%bf%90%e7%bb%b4") in terms
    items = {i.name: i for i in records if isinstance(i, Item)}
    assert {i.post_type for i in items.values()} == {"post"}
    assert {name: i.status for name, i in items.items()} == {
        "three": "publish",
        "private": "private",
        "locked": "publish",
        "draft": "draft",
        "later": "future",
        "second-name": "publish",
    }
    item = items["three"]
    assert item.wp_id == many.pk and item.sticky
    primary, *others = [n for t, n, _ in item.terms if t == "category"]
    assert (primary, sorted(others)) == ("local", ["%e7%bd%91%e7%bb%9c", "news"])
    assert items["locked"].password == "enter"
    assert ("_wp_old_slug", "first-name") in items["second-name"].postmeta
    states = sorted(c.approved for c in item.comments)
    assert states == ["0", "1", "1", "1", "spam"]
    reply = next(c for c in item.comments if c.author == "Replier")
    parent = next(c for c in item.comments if c.author == "Reader")
    assert reply.parent == parent.wp_id
    assert {c.type for c in item.comments} == {"", "pingback"}
