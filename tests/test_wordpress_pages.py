"""import_wordpress brings a blog's pages (tree, order, status, comments, old
addresses) and its menus (links to pages, posts, categories, tags and
addresses, in order, with their parents), and says what WXR cannot hold."""

from pathlib import Path

import pytest
from django.utils import timezone

from blog.models import Menu, MenuItem, Page, Post
from comments.models import Comment
from tests.test_wordpress_import import comment_xml, run_import, wxr

pytestmark = pytest.mark.django_db


@pytest.fixture
def export(tmp_path):
    def write(text: str, name: str = "export.xml") -> Path:
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        return path

    return write


def page_xml(
    wp_id,
    *,
    title,
    slug,
    parent=0,
    order=0,
    status="publish",
    link="",
    comment_status="closed",
    comments="",
    date="2019-05-04 10:00:00",
    password="",
):
    link = link or f"http://old.example.com/{slug}/"
    return f"""
  <item>
    <title>{title}</title>
    <link>{link}</link>
    <dc:creator><![CDATA[alice]]></dc:creator>
    <content:encoded><![CDATA[About <strong>{title}</strong>.]]></content:encoded>
    <excerpt:encoded><![CDATA[]]></excerpt:encoded>
    <wp:post_id>{wp_id}</wp:post_id>
    <wp:post_date>{date}</wp:post_date>
    <wp:post_date_gmt>{date}</wp:post_date_gmt>
    <wp:comment_status>{comment_status}</wp:comment_status>
    <wp:post_name>{slug}</wp:post_name>
    <wp:status>{status}</wp:status>
    <wp:post_parent>{parent}</wp:post_parent>
    <wp:menu_order>{order}</wp:menu_order>
    <wp:post_type>page</wp:post_type>
    <wp:post_password>{password}</wp:post_password>
    {comments}
  </item>"""


def post_xml(wp_id, *, title, slug):
    return f"""
  <item>
    <title>{title}</title>
    <link>http://old.example.com/2019/05/04/{slug}/</link>
    <dc:creator><![CDATA[alice]]></dc:creator>
    <content:encoded><![CDATA[Text.]]></content:encoded>
    <wp:post_id>{wp_id}</wp:post_id>
    <wp:post_date_gmt>2019-05-04 10:00:00</wp:post_date_gmt>
    <wp:post_name>{slug}</wp:post_name>
    <wp:status>publish</wp:status>
    <wp:post_type>post</wp:post_type>
    <category domain="category" nicename="news"><![CDATA[News]]></category>
    <category domain="post_tag" nicename="django"><![CDATA[Django]]></category>
  </item>"""


def menu_term(wp_id, slug, name):
    return f"""
  <wp:term><wp:term_id>{wp_id}</wp:term_id><wp:term_taxonomy>nav_menu</wp:term_taxonomy>
    <wp:term_slug>{slug}</wp:term_slug><wp:term_name><![CDATA[{name}]]></wp:term_name>
  </wp:term>"""


def menu_item_xml(
    wp_id,
    *,
    menu,
    order,
    kind,
    target="",
    object_id=0,
    url="",
    parent=0,
    title="",
    status="publish",
):
    meta = {
        "_menu_item_type": kind,
        "_menu_item_object": target or kind,
        "_menu_item_object_id": object_id,
        "_menu_item_menu_item_parent": parent,
        "_menu_item_url": url,
    }
    postmeta = "".join(
        f"<wp:postmeta><wp:meta_key>{key}</wp:meta_key>"
        f"<wp:meta_value><![CDATA[{value}]]></wp:meta_value></wp:postmeta>"
        for key, value in meta.items()
    )
    return f"""
  <item>
    <title>{title}</title>
    <link>http://old.example.com/?p={wp_id}</link>
    <wp:post_id>{wp_id}</wp:post_id>
    <wp:post_date_gmt>2019-05-04 10:00:00</wp:post_date_gmt>
    <wp:post_name>{wp_id}</wp:post_name>
    <wp:status>{status}</wp:status>
    <wp:menu_order>{order}</wp:menu_order>
    <wp:post_type>nav_menu_item</wp:post_type>
    <category domain="nav_menu" nicename="{menu}"><![CDATA[x]]></category>
    {postmeta}
  </item>"""


def pages_export() -> str:
    # Children before their parents, as exports often have them.
    return wxr(
        page_xml(12, title="Team", slug="team", parent=11, order=2)
        + page_xml(13, title="Ada", slug="ada", parent=12)
        + page_xml(
            11,
            title="About",
            slug="about",
            order=1,
            comment_status="open",
            comments=comment_xml(901)
            + comment_xml(902, parent=901, author="Bob", date="2020-01-03")
            + comment_xml(903, approved="0", author="Eve", date="2020-01-04"),
        )
        + page_xml(14, title="Contact", slug="contact", order=0)
        + page_xml(15, title="Plans", slug="plans", status="draft")
        + page_xml(16, title="Staff", slug="staff", status="private")
        + page_xml(
            17,
            title="Soon",
            slug="soon",
            status="future",
            date=f"{timezone.now().year + 2}-01-01 10:00:00",
        )
        + page_xml(18, title="Binned", slug="binned", status="trash")
        + page_xml(19, title="Feed", slug="feed")
        + page_xml(20, title="Orphan", slug="orphan", parent=999)
        + page_xml(
            21, title="Plain", slug="plain", link="http://old.example.com/?page_id=21"
        )
    )


def test_pages_come_with_their_tree_order_and_status(client, export):
    report = run_import(export(pages_export()))
    ada = Page.objects.get(title="Ada")
    assert ada.get_absolute_url() == "/about/team/ada/"
    assert ada.parent.title == "Team" and ada.parent.parent.title == "About"
    about = Page.objects.get(slug="about")
    assert (about.menu_order, Page.objects.get(slug="team").menu_order) == (1, 2)
    assert "<strong>About</strong>" in about.body_html
    assert about.author.username == "alice"
    assert client.get("/about/team/ada/").status_code == 200

    assert Page.objects.get(slug="plans").status == Page.Status.DRAFT
    assert Page.objects.get(slug="staff").status == Page.Status.PRIVATE
    assert Page.objects.get(slug="soon").is_scheduled
    for hidden in ("/plans/", "/staff/", "/soon/"):
        assert client.get(hidden).status_code == 404
    assert not Page.objects.filter(slug="binned").exists()
    assert "pages with status 'trash' skipped" in report

    # /feed/ belongs to the feed: the page gets another address.
    assert Page.objects.get(title="Feed").get_absolute_url() == "/feed-2/"
    assert "page addresses already taken here: a number added" in report
    assert Page.objects.get(title="Orphan").parent is None
    assert "pages whose parent page is not in the export made top-level" in report
    assert "“static front page” and “posts page”" in report


def test_page_comments_keep_their_threads_and_states(client, export):
    run_import(export(pages_export()))
    about = Page.objects.get(slug="about")
    assert about.allow_comments
    assert not Page.objects.get(slug="team").allow_comments
    comments = Comment.objects.for_post(about).order_by("wordpress_id")
    assert [(c.wordpress_id, c.state) for c in comments] == [
        (901, "public"),
        (902, "public"),
        (903, "held"),
    ]
    first, reply, _ = comments
    assert reply.parent_id == first.pk and reply.level == 1
    html = client.get("/about/").text
    assert "Comment number 901." in html and "Comment number 902." in html
    assert "Comment number 903." not in html
    assert "2 comments on “About”" in html


def test_old_page_addresses_redirect(client, export):
    run_import(export(pages_export()))
    for old, new in [
        ("/?page_id=13", "/about/team/ada/"),
        ("/ada/", "/about/team/ada/"),
        ("/?page_id=21", "/plain/"),
    ]:
        response = client.get(old)
        assert response.status_code == 301, old
        assert response["Location"] == new
    # An old address of a page readers may not open says nothing.
    assert client.get("/?page_id=15").status_code == 404


def test_importing_pages_again_changes_only_what_changed(client, export):
    run_import(export(pages_export()))
    before = Page.objects.count(), Comment.objects.count()
    report = run_import(export(pages_export()))
    assert (Page.objects.count(), Comment.objects.count()) == before
    pages_row = next(line for line in report.splitlines() if line.startswith("pages"))
    assert pages_row.split() == ["pages", "0", "0", "10", "1"]

    renamed = pages_export().replace(
        "<wp:post_name>team</wp:post_name>", "<wp:post_name>people</wp:post_name>"
    )
    run_import(export(renamed, "renamed.xml"))
    assert Page.objects.get(title="Ada").get_absolute_url() == "/about/people/ada/"
    from django.contrib.redirects.models import Redirect

    print(list(Redirect.objects.values_list("old_path", "new_path")))
    response = client.get("/about/team/ada/")
    assert response.status_code == 301
    assert response["Location"] == "/about/people/ada/"


def menus_export() -> str:
    return wxr(
        menu_term(50, "main", "Main menu")
        + menu_term(51, "empty", "Empty")
        + page_xml(11, title="About", slug="about")
        + page_xml(12, title="Team", slug="team", parent=11)
        + post_xml(31, title="Hello", slug="hello")
        + menu_item_xml(
            101, menu="main", order=1, kind="post_type", target="page", object_id=11
        )
        + menu_item_xml(
            102,
            menu="main",
            order=2,
            kind="post_type",
            target="page",
            object_id=12,
            parent=101,
        )
        + menu_item_xml(
            103,
            menu="main",
            order=3,
            kind="custom",
            url="http://old.example.com/2019/05/04/hello/",
            title="Deep link",
            parent=102,
        )
        + menu_item_xml(
            104,
            menu="main",
            order=4,
            kind="post_type",
            target="post",
            object_id=31,
            title="Start here",
        )
        + menu_item_xml(
            105, menu="main", order=5, kind="taxonomy", target="category", object_id=3
        )
        + menu_item_xml(
            106, menu="main", order=6, kind="taxonomy", target="post_tag", object_id=4
        )
        + menu_item_xml(
            107,
            menu="main",
            order=7,
            kind="custom",
            url="https://example.org/",
            title="Elsewhere",
        )
        + menu_item_xml(
            108,
            menu="main",
            order=8,
            kind="post_type",
            target="product",
            object_id=5,
            title="Shop",
        )
        + menu_item_xml(
            109,
            menu="main",
            order=9,
            kind="custom",
            url="javascript:alert(1)",
            title="Bad",
        )
        + menu_item_xml(
            110,
            menu="main",
            order=10,
            kind="post_type",
            target="page",
            object_id=77,
            title="Gone",
        )
    )


def test_nav_menus_become_menus_with_their_links_in_order(client, export):
    report = run_import(export(menus_export()))
    main = Menu.objects.get(name="Main menu")
    assert main.wordpress_id == 50 and main.location == ""
    assert Menu.objects.get(name="Empty").items.count() == 0
    links = list(main.items.all())
    assert [(link.text, link.href) for link in links] == [
        ("About", "/about/"),
        ("Team", "/about/team/"),
        ("Deep link", "/2019/05/04/hello/"),
        ("Start here", Post.objects.get(slug="hello").get_absolute_url()),
        ("News", "/category/news/"),
        ("Django", "/tag/django/"),
        ("Elsewhere", "https://example.org/"),
    ]
    about, team, deep = links[:3]
    assert team.parent == about
    # Two levels deep in WordPress: under the top link here.
    assert deep.parent == about
    assert all(link.parent is None for link in links[3:])
    assert "menu links nested deeper than one level put under their top link" in (
        report
    )
    assert "menu links to what Inkwell does not have skipped" in report
    assert "menu links to unusable addresses skipped" in report
    assert "menu links to something the import did not bring skipped" in report
    assert "menus imported without a place" in report

    # Shown once placed in the header.
    main.location = Menu.Location.HEADER
    main.save()
    html = client.get("/").text
    assert '<a href="/about/team/">Team</a>' in html
    assert html.index(">About</a>") < html.index(">Start here</a>")


def test_importing_menus_again_keeps_their_links_and_place(export):
    run_import(export(menus_export()))
    main = Menu.objects.get(name="Main menu")
    main.location = Menu.Location.FOOTER
    main.save()
    ids = list(MenuItem.objects.values_list("pk", flat=True))
    report = run_import(export(menus_export()))
    assert list(MenuItem.objects.values_list("pk", flat=True)) == ids
    assert Menu.objects.get(pk=main.pk).location == Menu.Location.FOOTER
    row = next(line for line in report.splitlines() if line.startswith("menu items"))
    assert row.split()[2:] == ["0", "0", "7", "3"]


def test_a_dry_run_reports_pages_and_menus_and_writes_none(export):
    report = run_import(export(menus_export()), "--dry-run")
    rows = {line[:14].strip(): line[14:].split() for line in report.splitlines()}
    assert rows["pages"][0] == "2" and rows["menus"][0] == "2"
    assert (Page.objects.count(), Menu.objects.count(), MenuItem.objects.count()) == (
        0,
        0,
        0,
    )
