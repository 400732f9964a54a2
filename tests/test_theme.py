"""The theme's server side: faces made here, reading time, a table of
contents, footnotes, the post page's hierarchy, compressed pages."""

import gzip
import hashlib
import re

import pytest
from django.conf import settings

from blog import avatars, reading
from blog.markup import markdownify
from blog.models import SiteIdentity
from comments.models import Comment, PostLike
from tests.factories import (
    make_category,
    make_comment,
    make_discussion,
    make_post,
    make_user,
    set_site_identity,
)

pytestmark = pytest.mark.django_db


def test_an_identicon_is_the_same_for_an_address_and_never_holds_it():
    first = avatars.identicon_url("Ada@Example.com ")
    assert first == avatars.identicon_url("ada@example.com")
    assert first != avatars.identicon_url("grace@example.com")
    assert first.startswith("data:image/png;base64,")
    assert "ada" not in first and "example" not in first
    # Without an address the name decides.
    assert avatars.identicon_url("", "Ada") != avatars.identicon_url("", "Grace")


def test_threads_show_a_face_per_commenter_and_mark_the_authors_replies(client):
    post = make_post()
    reader = make_comment(post=post, name="Reader", email="reader@example.org")
    reply = make_comment(post=post, user=post.author, parent=reader)
    page = client.get(post.get_absolute_url()).content.decode()
    thread = page.split('class="comment-list"')[1]
    faces = re.findall(r'<img class="avatar" src="(data:image/png[^"]+)"', thread)
    assert len(faces) == 2 and faces[0] != faces[1]
    assert "reader@example.org" not in page
    by_author = thread.split(f'id="c{reply.pk}"')[1].split("</footer>")[0]
    assert '<span class="comment__badge">Author</span>' in by_author
    assert (
        "comment__badge"
        not in thread.split(f'id="c{reader.pk}"')[1].split("</footer>")[0]
    )
    assert "gravatar" not in page.lower()


def test_post_page_hierarchy_reading_time_and_comment_count(client):
    post = make_post(body=" ".join(["word"] * 700), category=make_category())
    make_discussion(post=post, comments=3)
    page = client.get(post.get_absolute_url()).content.decode()
    order = [
        'class="eyebrow post__category"',
        'class="post__title"',
        'class="post-meta"',
        "3 min read",
        '<a href="#comments">3 comments</a>',
        'class="post__body"',
        'class="likes"',
        'class="author-box"',
        'id="comments"',
    ]
    positions = [page.index(marker) for marker in order]
    assert positions == sorted(positions)


def test_the_comment_count_follows_new_comments(client):
    post = make_post()
    url = post.get_absolute_url()
    assert "No comments yet</a>" in client.get(url).content.decode()
    make_comment(post=post, state=Comment.State.PUBLIC)
    assert '<a href="#comments">1 comment</a>' in client.get(url).content.decode()


def test_long_posts_get_a_table_of_contents_from_their_headings(client):
    sections = "\n\n".join(
        f"## Part {n}\n\n" + " ".join(["text"] * 100) for n in range(1, 4)
    )
    long_post = make_post(body=sections)
    page = client.get(long_post.get_absolute_url()).content.decode()
    toc = page.split('class="toc"')[1].split("</details>")[0]
    assert re.findall(r'href="#([^"]+)"', toc) == ["part-1", "part-2", "part-3"]
    short = make_post(body="## One\n\nA\n\n## Two\n\nB\n\n## Three\n\nC")
    assert 'class="toc"' not in client.get(short.get_absolute_url()).content.decode()
    assert reading.reading_minutes("<p>short</p>") == 1


def test_footnotes_link_both_ways():
    html = markdownify("A claim.[^1]\n\n[^1]: The source.")
    assert '<sup id="fnref:1"><a class="footnote-ref" href="#fn:1"' in html
    assert '<li id="fn:1">' in html and 'href="#fnref:1"' in html


def test_pages_are_compressed_for_browsers_that_accept_gzip(client):
    post = make_post(body="Some words. " * 200)
    plain = client.get(post.get_absolute_url())
    assert not plain.has_header("Content-Encoding")
    packed = client.get(post.get_absolute_url(), HTTP_ACCEPT_ENCODING="gzip, br")
    assert packed["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in packed["Vary"]
    # The page itself, whatever the CSRF token in it.
    text = gzip.decompress(packed.content).decode()
    assert post.title in text and len(packed.content) < len(plain.content) / 2


def preloaded_fonts(client) -> list[str]:
    page = client.get("/").content.decode()
    return re.findall(r'<link rel="preload" href="([^"]+)" as="font"', page)


def test_pages_preload_the_latin_files_of_the_faces_all_text_starts_with(client):
    site_css = (settings.BASE_DIR / "static" / "css" / "site.css").read_text()
    declared = {
        file: weight
        for weight, file in re.findall(
            r'font-weight: (\d+);[^}]*url\("\.\./fonts/([^"]+)"', site_css
        )
    }
    preloaded = [url.rsplit("/", 1)[-1] for url in preloaded_fonts(client)]
    # Each names a file the stylesheet's @font-face rules fetch (else it is
    # fetched twice): body text's regular and the headings' only weight.
    assert preloaded == ["inkwell-serif-400-latin.woff2", "fraunces-600-latin.woff2"]
    assert {name: declared.get(name) for name in preloaded} == {
        "inkwell-serif-400-latin.woff2": "400",
        "fraunces-600-latin.woff2": "600",
    }


@pytest.mark.parametrize("language", ["ar", "zh-hans"])
def test_languages_with_faces_of_their_own_preload_no_font(client, language):
    set_site_identity(language=language)
    assert preloaded_fonts(client) == []


def test_signed_in_likers_and_authors_have_faces(client):
    author = make_user(first_name="Ada", last_name="Lovelace")
    post = make_post(author=author)
    page = client.get(post.get_absolute_url()).content.decode()
    byline = page.split('class="byline"')[1].split("</header>")[0]
    assert avatars.identicon_url(author.email, "Ada Lovelace") in byline


@pytest.mark.parametrize(
    ("fields", "name"),
    [({"first_name": "Ada", "last_name": "Lovelace"}, "Ada Lovelace"), ({}, "ada")],
)
def test_an_author_is_called_by_their_full_name_else_their_username(
    client, fields, name
):
    post = make_post(author=make_user(username="ada", **fields))
    page = client.get(post.get_absolute_url()).content.decode()
    byline = page.split('class="post-meta"')[1].split("</p>")[0]
    assert f'<a href="/author/ada/">{name}</a>' in byline
    assert f'rel="author">{name}</a>' in page  # the author box
    listing = client.get("/author/ada/").content.decode()
    assert f"<h1>Posts by {name}</h1>" in listing
    assert f"<title>Posts by {name} · " in listing


GRAVATAR = "https://secure.gravatar.com"


def gravatar_of(email: str, pixels: int) -> str:
    digest = hashlib.sha256(email.encode()).hexdigest()
    return f"{GRAVATAR}/avatar/{digest}?s={pixels}&amp;d=blank"


def discussed_post():
    author = make_user(first_name="Ada", last_name="Lovelace", email="ada@example.com")
    post = make_post(author=author)
    make_comment(post=post, name="Reader", email="Reader@Example.org ")
    # Imported comments may have no address.
    no_address = make_comment(post=post, name="No Address")
    Comment.objects.filter(pk=no_address.pk).update(user_email="")
    PostLike.objects.create(post=post, user=make_user(email="liker@example.net"))
    return post


def img_src(response) -> str:
    return next(
        part
        for part in response["Content-Security-Policy"].split(";")
        if part.strip().startswith("img-src")
    ).strip()


def test_gravatar_is_off_unless_the_administrator_turns_it_on(client):
    assert SiteIdentity.current().gravatar is False
    post = discussed_post()
    response = client.get(post.get_absolute_url())
    page = response.content.decode()
    assert "gravatar" not in page.lower() and 'class="face"' not in page
    assert img_src(response) == "img-src 'self' data:"
    assert "gravatar" not in client.get("/")["Content-Security-Policy"]


def test_with_gravatar_on_its_pictures_lie_over_the_identicons(client):
    post = discussed_post()
    set_site_identity(gravatar=True)
    response = client.get(post.get_absolute_url())
    page = response.content.decode()
    assert img_src(response) == f"img-src 'self' data: {GRAVATAR}"
    # The address is trimmed and lower-cased, and only its hash leaves.
    reader = gravatar_of("reader@example.org", 80)
    thread = page.split('class="comment-list"')[1]
    assert reader in thread and "reader@example.org" not in page
    face = thread[: thread.index(reader)].rsplit('<span class="face">', 1)[1]
    assert face.startswith('<img class="avatar" src="data:image/png;base64,')
    # Someone without an address keeps the identicon alone: no name is sent.
    assert thread.count('<span class="face">') == 1
    assert thread.count('<img class="avatar" src="data:image/png') == 2
    assert gravatar_of("ada@example.com", 88) in page.split('class="byline"')[1]
    assert gravatar_of("ada@example.com", 128) in page.split('class="author-box"')[1]
    assert gravatar_of("liker@example.net", 56) in page.split('class="likes__names"')[1]
    assert 'referrerpolicy="no-referrer"' in page


def test_turning_gravatar_on_or_off_shows_on_the_next_request(client, admin_client):
    post = discussed_post()
    url = post.get_absolute_url()
    client.get(url)
    cached = client.get(url)
    assert (
        cached["X-Page-Cache"] == "hit"
        and "gravatar" not in cached["Content-Security-Policy"]
    )
    change = "/admin/blog/siteidentity/1/change/"
    form = admin_client.get(change).content.decode()
    assert "a hash of each person" in form  # the privacy note
    fields = {
        "title": "Inkwell",
        "description": "A blog",
        "posts_per_page": 10,
        "gravatar": "on",
    }
    assert admin_client.post(change, fields).status_code == 302
    on = client.get(url)
    assert on["X-Page-Cache"] == "miss"
    assert GRAVATAR in on["Content-Security-Policy"]
    assert gravatar_of("reader@example.org", 80) in on.content.decode()
    assert client.get(url)["X-Page-Cache"] == "hit"
    del fields["gravatar"]
    assert admin_client.post(change, fields).status_code == 302
    off = client.get(url)
    assert off["X-Page-Cache"] == "miss" and "gravatar" not in off.content.decode()
    assert "gravatar" not in off["Content-Security-Policy"]
