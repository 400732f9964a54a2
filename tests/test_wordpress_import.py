"""import_wordpress moves a WordPress blog in, safely and repeatably."""

import datetime
import io
import re
import zipfile
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.contrib.redirects.models import Redirect
from django.core.files.storage import default_storage
from django.core.management import CommandError, call_command
from django.utils import timezone
from PIL import Image
from taggit.models import Tag

from blog import markup
from blog.models import Category, MediaFile, Post
from blog.wordpress import posts_written
from blog.wordpress.content import (
    Attachment,
    convert_content,
    expand_shortcodes,
    wpautop,
)
from comments.models import Comment
from comments.wordpress import thread_data
from tests.factories import make_post, make_user

pytestmark = pytest.mark.django_db

THEME_UNIT_TEST = Path(__file__).parent / "data" / "themeunittestdata.wordpress.xml"


def run_import(path, *args) -> str:
    out = io.StringIO()
    call_command("import_wordpress", str(path), *args, stdout=out)
    return out.getvalue()


def counts() -> dict[str, int]:
    return {
        "users": get_user_model().objects.count(),
        "categories": Category.objects.count(),
        "tags": Tag.objects.count(),
        "posts": Post.objects.count(),
        "comments": Comment.objects.count(),
        "redirects": Redirect.objects.count(),
    }


def comment_xml(
    wp_id, *, parent=0, approved="1", kind="", author="Reader", date="2020-01-02"
):
    return f"""
    <wp:comment>
      <wp:comment_id>{wp_id}</wp:comment_id>
      <wp:comment_author><![CDATA[{author}]]></wp:comment_author>
      <wp:comment_author_email>reader@example.com</wp:comment_author_email>
      <wp:comment_author_url>https://reader.example.com</wp:comment_author_url>
      <wp:comment_author_IP>192.0.2.{wp_id % 250}</wp:comment_author_IP>
      <wp:comment_date>{date} 10:{wp_id % 60:02d}:00</wp:comment_date>
      <wp:comment_date_gmt>{date} 09:{wp_id % 60:02d}:00</wp:comment_date_gmt>
      <wp:comment_content><![CDATA[Comment number {wp_id}.]]></wp:comment_content>
      <wp:comment_approved>{approved}</wp:comment_approved>
      <wp:comment_type>{kind}</wp:comment_type>
      <wp:comment_parent>{parent}</wp:comment_parent>
      <wp:comment_user_id>0</wp:comment_user_id>
    </wp:comment>"""


def item_xml(
    wp_id=1,
    *,
    title="Hello world",
    slug="hello-world",
    status="publish",
    post_type="post",
    content="First paragraph.\n\nSecond line one\nline two.",
    creator="alice",
    comments="",
    extra="",
):
    return f"""
  <item>
    <title>{title}</title>
    <link>http://old.example.com/2019/05/04/{slug}/</link>
    <dc:creator><![CDATA[{creator}]]></dc:creator>
    <content:encoded><![CDATA[{content}]]></content:encoded>
    <excerpt:encoded><![CDATA[]]></excerpt:encoded>
    <wp:post_id>{wp_id}</wp:post_id>
    <wp:post_date>2019-05-04 12:00:00</wp:post_date>
    <wp:post_date_gmt>2019-05-04 10:00:00</wp:post_date_gmt>
    <wp:comment_status>open</wp:comment_status>
    <wp:post_name>{slug}</wp:post_name>
    <wp:status>{status}</wp:status>
    <wp:post_type>{post_type}</wp:post_type>
    <category domain="category" nicename="news"><![CDATA[News]]></category>
    <category domain="post_tag" nicename="django"><![CDATA[Django]]></category>
    {extra}{comments}
  </item>"""


def wxr(items="", *, version="1.2", scheme="http", head="", version_element=None):
    ns = f"{scheme}://wordpress.org/export/{version}/"
    if version_element is None:
        version_element = f"<wp:wxr_version>{version}</wp:wxr_version>"
    return f"""<?xml version="1.0" encoding="UTF-8"?>
{head}<rss version="2.0" xmlns:excerpt="{ns}excerpt/"
  xmlns:content="http://purl.org/rss/1.0/modules/content/"
  xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:wp="{ns}">
<channel>
  <title>Old blog</title>
  <link>http://old.example.com</link>
  {version_element}
  <wp:author><wp:author_id>7</wp:author_id><wp:author_login>alice</wp:author_login>
    <wp:author_email>alice@example.com</wp:author_email>
    <wp:author_display_name><![CDATA[Alice Liddell]]></wp:author_display_name>
  </wp:author>
  <wp:category><wp:term_id>3</wp:term_id><wp:category_nicename>news</wp:category_nicename>
    <wp:category_parent></wp:category_parent><wp:cat_name><![CDATA[News]]></wp:cat_name>
  </wp:category>
  <wp:tag><wp:term_id>4</wp:term_id><wp:tag_slug>django</wp:tag_slug>
    <wp:tag_name><![CDATA[Django]]></wp:tag_name></wp:tag>
  {items}
</channel>
</rss>
"""


@pytest.fixture
def export(tmp_path):
    def write(text: str, name: str = "export.xml") -> Path:
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        return path

    return write


def test_second_import_creates_nothing_and_updates_an_edited_title(tmp_path):
    run_import(THEME_UNIT_TEST)
    before = counts()
    text = THEME_UNIT_TEST.read_text(encoding="utf-8")
    edited = tmp_path / "edited.xml"
    edited.write_text(
        text.replace(
            "<title>Markup: Image Alignment</title>",
            "<title>Markup: Image Alignment, revised</title>",
        ),
        encoding="utf-8",
    )
    report = run_import(edited)
    assert counts() == before
    post = Post.objects.get(slug="markup-image-alignment")
    assert post.title == "Markup: Image Alignment, revised"
    posts_row = next(line for line in report.splitlines() if line.startswith("posts"))
    assert posts_row.split()[1:] == ["0", "1", "50", "0"]
    comments_row = next(
        line for line in report.splitlines() if line.startswith("comments")
    )
    assert comments_row.split()[1:] == ["0", "0", "32", "0"]
    rows = {line[:14].strip(): line[14:].split() for line in report.splitlines()}
    assert rows["pages"] == ["0", "0", "21", "0"]
    assert rows["menus"] == ["0", "0", "6", "0"]
    assert rows["menu items"] == ["0", "0", "70", "0"]


def test_a_second_import_gives_a_post_exactly_its_new_tags_and_categories(export):
    run_import(export(wxr(item_xml())))
    django = (
        '<category domain="post_tag" nicename="django"><![CDATA[Django]]></category>'
    )
    health = (
        '<category domain="category" nicename="health"><![CDATA[Health]]></category>'
    )
    spine = '<category domain="post_tag" nicename="spine"><![CDATA[Spine]]></category>'
    retagged = wxr(item_xml(extra=health + spine)).replace(django, "")

    def posts_row(report: str) -> list[str]:
        return next(r for r in report.splitlines() if r.startswith("posts")).split()

    report = run_import(export(retagged, "retagged.xml"))
    assert posts_row(report)[1:] == ["0", "1", "0", "0"]  # updated
    post = Post.objects.get()
    assert [tag.slug for tag in post.tags.all()] == ["spine"]
    assert post.category.slug == "news"
    assert [category.slug for category in post.categories.all()] == ["health"]
    report = run_import(export(retagged, "again.xml"))
    assert posts_row(report)[1:] == ["0", "0", "1", "0"]  # unchanged


# Small hand-made exports -------------------------------------------------------


@pytest.mark.parametrize("version", ["1.0", "1.1", "1.2"])
@pytest.mark.parametrize("scheme", ["http", "https"])
def test_every_wxr_version_and_namespace_spelling_is_read(export, version, scheme):
    path = export(wxr(item_xml(), version=version, scheme=scheme))
    run_import(path)
    post = Post.objects.get()
    assert (post.title, post.slug, post.status) == (
        "Hello world",
        "hello-world",
        "published",
    )
    assert post.published_at == datetime.datetime(2019, 5, 4, 10, tzinfo=datetime.UTC)
    assert post.category.name == "News"
    assert [t.name for t in post.tags.all()] == ["Django"]
    assert post.author.username == "alice"
    assert post.author.get_full_name() == "Alice Liddell"
    assert post.allow_comments


def test_missing_gmt_date_uses_the_local_date_in_the_site_time_zone(export, settings):
    settings.TIME_ZONE = "Europe/Paris"
    item = item_xml().replace("2019-05-04 10:00:00", "0000-00-00 00:00:00")
    run_import(export(wxr(item)))
    assert Post.objects.get().published_at == datetime.datetime(
        2019, 5, 4, 10, tzinfo=datetime.UTC
    )


@pytest.mark.parametrize(
    ("version_element", "message"),
    [
        ("<wp:wxr_version>2.0</wp:wxr_version>", "Unsupported WXR version '2.0'"),
        ("", "No <wp:wxr_version>"),
    ],
    ids=["wrong", "missing"],
)
def test_wrong_or_missing_version_is_refused(export, version_element, message):
    path = export(wxr(item_xml(), version_element=version_element))
    with pytest.raises(CommandError, match=message):
        run_import(path)
    assert counts()["posts"] == 0


def test_truncated_file_is_refused_with_its_line_and_imports_nothing(export):
    text = wxr(item_xml(1) + item_xml(2, slug="second"))
    path = export(text[: text.index("<wp:post_id>2")])
    with pytest.raises(CommandError, match=r"not well-formed XML at line \d+"):
        run_import(path)
    assert not any(counts().values())


def test_a_failure_while_writing_leaves_nothing_half_imported(export):
    """A failure after the posts and their comments are written rolls it all back."""

    def fail(**kwargs):
        raise RuntimeError("disk full")

    path = export(wxr(item_xml(comments=comment_xml(5))))
    posts_written.connect(fail, dispatch_uid="test-fail")
    try:
        with pytest.raises(RuntimeError):
            run_import(path)
    finally:
        posts_written.disconnect(dispatch_uid="test-fail")
    assert not any(counts().values())


XXE = """<!DOCTYPE rss [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
"""
BOMB = """<!DOCTYPE rss [
  <!ENTITY a "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa">
  <!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">
  <!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">
]>
"""


@pytest.mark.parametrize("head", [XXE, BOMB], ids=["external-entity", "entity-bomb"])
def test_xml_attacks_are_refused(export, head):
    path = export(wxr(item_xml(title="&secret;&c;"), head=head))
    with pytest.raises(CommandError, match="refused"):
        run_import(path)
    assert not any(counts().values())


def test_unknown_status_becomes_a_draft_and_is_reported(export):
    report = run_import(export(wxr(item_xml(status="in-review"))))
    assert Post.objects.get().status == Post.Status.DRAFT
    assert "posts with unknown status 'in-review' imported as drafts" in report


def test_comment_states_pings_and_skip_pings(export):
    comments = "".join(
        [
            comment_xml(1, approved="1"),
            comment_xml(2, approved="0"),
            comment_xml(3, approved="spam"),
            comment_xml(4, approved="trash"),
            comment_xml(5, kind="pingback", author="Other blog"),
            comment_xml(6, kind="trackback", author="Third blog"),
        ]
    )
    path = export(wxr(item_xml(comments=comments)))
    run_import(path, "--skip-pings")
    states = dict(Comment.objects.values_list("comment", "state"))
    assert states == {
        "Comment number 1.": "public",
        "Comment number 2.": "held",
        "Comment number 3.": "spam",
        "Comment number 4.": "trash",
    }
    assert Comment.objects.get(state="spam").is_removed
    assert Comment.objects.get(state="trash").is_removed
    assert not Comment.objects.get(state="held").is_public
    run_import(path)
    assert dict(
        Comment.objects.exclude(reason="").values_list("user_name", "reason")
    ) == {
        "Other blog": "pingback",
        "Third blog": "trackback",
    }
    assert Comment.objects.count() == 6
    approved = export(
        path.read_text().replace("<wp:comment_approved>0<", "<wp:comment_approved>1<")
    )
    report = run_import(approved)
    held = Comment.objects.get(comment="Comment number 2.")
    assert (held.state, held.is_public) == ("public", True)
    comments_row = next(r for r in report.splitlines() if r.startswith("comments"))
    assert comments_row.split()[1:] == ["0", "1", "5", "0"]


def test_dry_run_reports_and_writes_nothing(export):
    report = run_import(export(wxr(item_xml(comments=comment_xml(1)))), "--dry-run")
    assert "Dry run: nothing was written." in report
    assert (
        next(r for r in report.splitlines() if r.startswith("posts")).split()[1] == "1"
    )
    assert not any(counts().values())


def test_author_map_gives_posts_to_an_existing_user(export):
    editor = make_user(username="editor")
    run_import(export(wxr(item_xml())), "--author-map", "alice=editor")
    assert Post.objects.get().author == editor
    assert not get_user_model().objects.filter(username="alice").exists()
    with pytest.raises(CommandError, match="do not exist here: nobody"):
        run_import(export(wxr(item_xml())), "--author-map", "alice=nobody")


def test_a_slug_taken_by_an_inkwell_post_is_not_overwritten(export):
    mine = make_post(title="Mine", slug="hello-world")
    path = export(wxr(item_xml()))
    report = run_import(path)
    imported = Post.objects.exclude(pk=mine.pk).get()
    assert imported.slug == "hello-world-2"
    assert "a number added" in report
    run_import(path)
    assert Post.objects.count() == 2
    assert Post.objects.get(pk=mine.pk).title == "Mine"


def test_media_files_are_copied_and_links_rewritten(export, tmp_path):
    uploads = tmp_path / "uploads" / "2019" / "05"
    uploads.mkdir(parents=True)
    (uploads / "photo.jpg").write_bytes(b"not really a jpeg")
    content = (
        '<img src="http://old.example.com/wp-content/uploads/2019/05/photo.jpg" '
        'alt="A photo"> and <img src="http://old.example.com/wp-content/uploads/'
        '2019/05/gone.jpg" alt="">'
    )
    thumbnail = "<wp:postmeta><wp:meta_key>_thumbnail_id</wp:meta_key>"
    thumbnail += "<wp:meta_value>50</wp:meta_value></wp:postmeta>"
    attachment = item_xml(50, title="Photo", post_type="attachment", status="inherit")
    attachment = attachment.replace(
        "</item>",
        "<wp:attachment_url>http://old.example.com/wp-content/uploads/2019/05/"
        "photo.jpg</wp:attachment_url><wp:postmeta><wp:meta_key>"
        "_wp_attachment_image_alt</wp:meta_key><wp:meta_value>A red door"
        "</wp:meta_value></wp:postmeta></item>",
    )
    path = export(wxr(item_xml(content=content, extra=thumbnail) + attachment))
    report = run_import(path, "--media-dir", str(tmp_path / "uploads"))
    post = Post.objects.get()
    assert post.featured_image.name == "wordpress/2019/05/photo.jpg"
    assert post.featured_image_alt == "A red door"
    body = post.body
    assert 'src="/media/wordpress/2019/05/photo.jpg"' in body
    assert "uploads/2019/05/gone.jpg" in body
    assert default_storage.open("wordpress/2019/05/photo.jpg").read() == (
        b"not really a jpeg"
    )
    assert "media files not found under --media-dir" in report
    run_import(path, "--media-dir", str(tmp_path / "uploads"))
    assert default_storage.listdir("wordpress/2019/05")[1] == ["photo.jpg"]
    # In the media library, once, though imported twice.
    [media] = MediaFile.objects.all()
    assert (media.name, media.size) == ("wordpress/2019/05/photo.jpg", 17)


def test_imported_pictures_are_described_by_their_alt_text(export, tmp_path):
    uploads = tmp_path / "uploads" / "2019" / "05"
    uploads.mkdir(parents=True)
    for name in ("door.jpg", "door-300x200.jpg", "chair.jpg"):
        (uploads / name).write_bytes(b"not really a jpeg")
    old = "http://old.example.com/wp-content/uploads/2019/05/"
    content = (
        f'<img src="{old}door-300x200.jpg" alt="The door, small"> '
        f'<img src="{old}chair.jpg" alt="A chair &amp; its shadow">'
    )
    attachment = item_xml(50, title="Door", post_type="attachment", status="inherit")
    attachment = attachment.replace(
        "</item>",
        f"<wp:attachment_url>{old}door.jpg</wp:attachment_url><wp:postmeta>"
        "<wp:meta_key>_wp_attachment_image_alt</wp:meta_key><wp:meta_value>A red "
        "door</wp:meta_value></wp:postmeta></item>",
    )
    path = export(wxr(item_xml(content=content) + attachment))
    run_import(path, "--media-dir", str(tmp_path / "uploads"))
    described = dict(MediaFile.objects.values_list("name", "description"))
    # WordPress's own alt text of the attachment, for its resized copy too;
    # else the alt text the post shows it with.
    assert described == {
        "wordpress/2019/05/door-300x200.jpg": "A red door",
        "wordpress/2019/05/chair.jpg": "A chair & its shadow",
    }
    # A description written in the library stays through a second import.
    MediaFile.objects.filter(name__endswith="chair.jpg").update(description="Mine")
    run_import(path, "--media-dir", str(tmp_path / "uploads"))
    assert MediaFile.objects.get(name__endswith="chair.jpg").description == "Mine"


@pytest.mark.parametrize("prefix", ["", "uploads/", "site/wp-content/uploads/"])
def test_media_files_come_from_a_zip_of_the_uploads_folder(export, tmp_path, prefix):
    uploads = tmp_path / "uploads.zip"
    with zipfile.ZipFile(uploads, "w") as archive:
        archive.writestr(f"{prefix}2019/05/photo.jpg", b"zipped bytes")
        archive.writestr("../../2019/05/escape.jpg", b"never read")
    content = (
        '<img src="http://old.example.com/wp-content/uploads/2019/05/photo.jpg" '
        'alt="A photo"><img src="http://old.example.com/wp-content/uploads/'
        '2019/05/../../../2019/05/escape.jpg" alt="">'
    )
    path = export(wxr(item_xml(content=content)))
    report = run_import(path, "--media-dir", str(uploads))
    assert 'src="/media/wordpress/2019/05/photo.jpg"' in Post.objects.get().body
    assert default_storage.open("wordpress/2019/05/photo.jpg").read() == (
        b"zipped bytes"
    )
    assert default_storage.listdir("wordpress/2019/05")[1] == ["photo.jpg"]
    assert "media files not found under --media-dir" in report


def test_media_dir_that_is_neither_a_folder_nor_a_zip_is_refused(export, tmp_path):
    not_a_zip = tmp_path / "uploads.zip"
    not_a_zip.write_bytes(b"plain text")
    with pytest.raises(CommandError, match="not a folder or a zip"):
        run_import(export(wxr(item_xml())), "--media-dir", str(not_a_zip))
    assert not any(counts().values())


# Content conversion ------------------------------------------------------------


def test_wpautop_makes_paragraphs_and_line_breaks_like_wordpress():
    assert wpautop("One\n\nTwo\nthree") == "<p>One</p>\n<p>Two<br />\nthree</p>\n"
    assert wpautop("<pre>a\n\nb</pre>\n\nText") == "<pre>a\n\nb</pre>\n<p>Text</p>\n"
    assert wpautop("<ul>\n<li>a</li>\n<li>b</li>\n</ul>") == (
        "<ul>\n<li>a</li>\n<li>b</li>\n</ul>\n"
    )
    assert wpautop("Text\n\n<div>foo</div>\n\nMore") == (
        "<p>Text</p>\n<div>foo</div>\n<p>More</p>\n"
    )
    assert wpautop("<blockquote>Quote\nline</blockquote>") == (
        "<blockquote><p>Quote<br />\nline</p></blockquote>\n"
    )
    assert wpautop('<a href="x"\ntitle="y">link</a>') == (
        '<p><a href="x"\ntitle="y">link</a></p>\n'
    )


def test_shortcodes_become_figures_and_image_lists():
    caption = (
        '[caption id="attachment_1" align="alignleft" width="150"]'
        '<img src="http://x.test/a.jpg" alt="A"> A caption[/caption]'
    )
    assert expand_shortcodes(caption) == (
        '<figure><img src="http://x.test/a.jpg" alt="A"><figcaption>A caption'
        "</figcaption></figure>"
    )
    assert expand_shortcodes("[[gallery]] and [audio src=x]") == (
        "[gallery] and [audio src=x]"
    )
    attachments = {
        5: Attachment(url="http://x.test/5.jpg", title="Five", wp_id=5),
        6: Attachment(url="http://x.test/6.jpg", alt="Six", wp_id=6, parent=9),
    }
    assert expand_shortcodes('[gallery ids="6,5"]', 9, attachments) == (
        '<ul><li><a href="http://x.test/6.jpg"><img src="http://x.test/6.jpg" '
        'alt="Six"></a></li><li><a href="http://x.test/5.jpg"><img '
        'src="http://x.test/5.jpg" alt="Five"></a></li></ul>'
    )
    assert "6.jpg" in expand_shortcodes("[gallery]", 9, attachments)
    assert "5.jpg" not in expand_shortcodes("[gallery]", 9, attachments)


def test_converted_content_renders_through_the_one_markdown_renderer():
    body = convert_content(
        "Text with *stars* and_underscores_\n\n<script>alert(1)</script>\n\nEnd"
    )
    html = markup.markdownify(body)
    assert "<script>" not in html
    assert "<p>Text with *stars* and_underscores_</p>" in html
    assert "<p>End</p>" in html
    embed = convert_content("Watch:\n\nhttps://video.example.com/v/1\n\nAfter")
    assert (
        '<p><a href="https://video.example.com/v/1">https://video.example.com/v/1'
        "</a></p>" in embed
    )


# Threads -----------------------------------------------------------------------


def test_thread_data_equals_what_django_comments_xtd_computes(settings):
    """Save a small thread through XtdComment.save(), compare with ours."""
    post = make_post()
    start = timezone.now() - datetime.timedelta(days=1)
    # (name, parent name): replies arrive interleaved, as in real discussions.
    shape = [
        ("a", None), ("b", None), ("a1", "a"), ("b1", "b"), ("a2", "a"),
        ("a1x", "a1"), ("a1xy", "a1x"), ("a1xyz", "a1xy"), ("a3", "a"),
        ("a1y", "a1"),
    ]  # fmt: skip
    saved = {}
    for minutes, (name, parent) in enumerate(shape):
        comment = Comment(
            content_object=post,
            site_id=settings.SITE_ID,
            user_name=name,
            comment=name,
            submit_date=start + datetime.timedelta(minutes=minutes),
            parent_id=saved[parent].pk if parent else 0,
        )
        comment.save()
        saved[name] = comment
    stored = {
        c.pk: {
            "thread_id": c.thread_id,
            "parent_id": c.parent_id,
            "level": c.level,
            "order": c.order,
            "nested_count": c.nested_count,
        }
        for c in Comment.objects.filter(object_pk=str(post.pk))
    }
    nodes = [
        (c.pk, c.submit_date, saved[parent].pk if parent else None)
        for (name, parent), c in zip(shape, saved.values(), strict=True)
    ]
    computed, reattached = thread_data(nodes, max_level=4)
    assert computed == stored
    assert reattached == set()


def test_replies_past_the_maximum_depth_join_the_deepest_level():
    now = timezone.now()
    chain = [
        (n, now + datetime.timedelta(minutes=n), n - 1 or None) for n in range(1, 8)
    ]
    computed, reattached = thread_data(chain, max_level=2)
    assert [computed[n]["level"] for n in range(1, 8)] == [0, 1, 2, 2, 2, 2, 2]
    assert [computed[n]["parent_id"] for n in range(1, 8)] == [1, 1, 2, 2, 2, 2, 2]
    assert [computed[n]["order"] for n in range(1, 8)] == list(range(1, 8))
    assert reattached == {4, 5, 6, 7}


def test_reimport_keeps_replies_written_here_in_their_threads(export, settings):
    comments = comment_xml(1) + comment_xml(2, parent=1, date="2020-01-03")
    path = export(wxr(item_xml(comments=comments)))
    run_import(path)
    post = Post.objects.get()
    first = Comment.objects.get(comment="Comment number 1.")
    reply = Comment(
        content_object=post,
        site_id=settings.SITE_ID,
        user_name="Local reader",
        comment="Written on Inkwell.",
        submit_date=timezone.now(),
        parent_id=first.pk,
    )
    reply.save()
    before = {
        c.pk: (c.thread_id, c.parent_id, c.level, c.order, c.nested_count)
        for c in Comment.objects.all()
    }
    report = run_import(path)
    after = {
        c.pk: (c.thread_id, c.parent_id, c.level, c.order, c.nested_count)
        for c in Comment.objects.all()
    }
    assert after == before
    assert before[reply.pk] == (first.pk, first.pk, 1, 3, 0)
    comments_row = next(r for r in report.splitlines() if r.startswith("comments"))
    assert comments_row.split()[1:] == ["0", "0", "2", "0"]


def test_items_missing_optional_elements_are_imported(export):
    minimal = """
  <item>
    <title>Bare</title>
    <wp:post_id>9</wp:post_id>
    <wp:post_type>post</wp:post_type>
    <category domain="tag" nicename="old-style"><![CDATA[Old style]]></category>
    <category><![CDATA[No nicename, ignored]]></category>
  </item>"""
    report = run_import(export(wxr(minimal, version="1.0")))
    post = Post.objects.get()
    assert (post.title, post.slug, post.status) == ("Bare", "bare", "published")
    assert post.author.username == "alice"
    assert post.published_at is not None
    assert [t.name for t in post.tags.all()] == ["Old style"]
    assert "published posts without a valid date published now" in report


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_is_shown_on_a_terminal_only(export):
    path = export(wxr(item_xml()))
    terminal = Terminal()
    call_command("import_wordpress", str(path), "--dry-run", stdout=terminal)
    assert "\rReading items: 1/1\n" in terminal.getvalue()
    assert "\r" not in run_import(path, "--dry-run")


# Tags are known by their WordPress id ------------------------------------------

TAG_4 = (
    "<wp:tag><wp:term_id>4</wp:term_id><wp:tag_slug>django</wp:tag_slug>\n"
    "    <wp:tag_name><![CDATA[Django]]></wp:tag_name></wp:tag>"
)


def test_a_tag_renamed_in_wordpress_is_the_same_tag_on_reimport(export):
    run_import(export(wxr(item_xml())))
    tag = Tag.objects.get()
    renamed = wxr(item_xml()).replace(
        TAG_4,
        "<wp:tag><wp:term_id>4</wp:term_id><wp:tag_slug>django-web</wp:tag_slug>"
        "<wp:tag_name><![CDATA[Django web]]></wp:tag_name></wp:tag>",
    )
    renamed = renamed.replace(
        'nicename="django"><![CDATA[Django]]>',
        'nicename="django-web"><![CDATA[Django web]]>',
    )
    report = run_import(export(renamed, "renamed.xml"))
    again = Tag.objects.get()
    assert again.pk == tag.pk
    assert again.name == "Django web"
    assert again.slug == "django"  # its address stays
    assert list(Post.objects.get().tags.all()) == [again]
    tags_row = next(line for line in report.splitlines() if line.startswith("tags"))
    assert tags_row.split()[1:] == ["0", "1", "0", "0"]


def test_two_wordpress_tags_of_one_name_stay_two_tags(export):
    second_tag = (
        "<wp:tag><wp:term_id>9</wp:term_id><wp:tag_slug>django-2</wp:tag_slug>"
        "<wp:tag_name><![CDATA[django]]></wp:tag_name></wp:tag>"
    )
    other_post = item_xml(2, title="Other", slug="other").replace(
        'nicename="django"><![CDATA[Django]]>', 'nicename="django-2"><![CDATA[django]]>'
    )
    text = wxr(item_xml() + other_post).replace(TAG_4, TAG_4 + second_tag)
    report = run_import(export(text))
    assert "tags named as another WordPress tag: a number added" in report
    first, second = Tag.objects.order_by("pk")
    assert (first.name, second.name) == ("Django", "django (2)")
    assert list(Post.objects.get(slug="hello-world").tags.all()) == [first]
    assert list(Post.objects.get(slug="other").tags.all()) == [second]
    before = counts()
    run_import(export(text, "again.xml"))
    assert counts() == before
    assert list(Post.objects.get(slug="other").tags.all()) == [second]


def test_a_tag_made_here_is_adopted_once_and_found_by_id_after(export):
    made_here = Tag.objects.create(name="Django", slug="django")
    run_import(export(wxr(item_xml())))
    assert list(Post.objects.get().tags.all()) == [made_here]
    made_here.name = "Django (framework)"  # renamed here: still WordPress's #4
    made_here.save()
    run_import(export(wxr(item_xml()), "again.xml"))
    assert Tag.objects.count() == 1
    assert list(Post.objects.get().tags.all()) == [made_here]


def test_imported_pictures_get_their_sizes_and_captions_become_figures(
    export, tmp_path, client
):
    uploads = tmp_path / "uploads" / "2019" / "05"
    uploads.mkdir(parents=True)
    photo = io.BytesIO()
    Image.linear_gradient("L").resize((1200, 800)).convert("RGB").save(photo, "JPEG")
    (uploads / "door.jpg").write_bytes(photo.getvalue())
    url = "http://old.example.com/wp-content/uploads/2019/05/door.jpg"
    content = (
        f'[caption id="attachment_50" width="600"]<img src="{url}" alt="A red door" '
        'width="600" height="400"> The door, in May[/caption]'
    )
    thumbnail = "<wp:postmeta><wp:meta_key>_thumbnail_id</wp:meta_key>"
    thumbnail += "<wp:meta_value>50</wp:meta_value></wp:postmeta>"
    attachment = item_xml(50, title="Door", post_type="attachment", status="inherit")
    attachment = attachment.replace(
        "</item>", f"<wp:attachment_url>{url}</wp:attachment_url></item>"
    )
    path = export(wxr(item_xml(content=content, extra=thumbnail) + attachment))
    run_import(path, "--media-dir", str(tmp_path / "uploads"))

    media = MediaFile.objects.get()
    assert [width for width, _name in media.variants] == [480, 800, 1200]
    post = Post.objects.get()
    assert post.featured_image_sizes["width"] == 1200
    page = client.get(post.get_absolute_url()).content.decode()
    featured, body = re.findall(r"<img [^>]*door\.jpg[^>]*>", page)
    assert 'width="1200"' in featured and 'fetchpriority="high"' in featured
    # The author's width stays; the copies are offered, lazily.
    assert 'width="600"' in body and "door-480w.webp 480w" in body
    assert 'loading="lazy"' in body
    assert re.search(
        r"<figure><img [^>]*><figcaption>The door, in May</figcaption>", page
    )
