"""Menus and the site's identity: edited in the admin, shown in the header
and footer of every page, cached like every other piece and fresh on the
next request after a change."""

import re
from datetime import timedelta
from io import BytesIO

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image

from blog.models import Menu, MenuItem, SiteIdentity
from tests.factories import make_category, make_page, make_post, set_site_identity

pytestmark = pytest.mark.django_db


def header_links(html: str) -> list[str]:
    nav = html[html.index('<ul class="site-nav">') :]
    nav = nav[: nav.index("</nav>")]
    return re.findall(r"<a href=\"[^\"]*\">([^<]*)</a>", nav)


def footer_links(html: str) -> list[str]:
    if '<ul class="footer-menu">' not in html:
        return []
    nav = html[html.index('<ul class="footer-menu">') :]
    nav = nav[: nav.index("</nav>")]
    return re.findall(r"<a href=\"[^\"]*\">([^<]*)</a>", nav)


def make_menu(location: str = "header", name: str = "") -> Menu:
    return Menu.objects.create(name=name or location.title(), location=location)


def test_an_empty_header_menu_shows_home_and_the_top_level_categories(client):
    news = make_category(name="News")
    make_category(name="Local", parent=news)
    make_category(name="Art")
    assert header_links(client.get("/").text) == ["Home", "Art", "News"]


def test_the_header_shows_its_menu_in_order_with_one_level_of_sub_links(client):
    about = make_page(title="About", slug="about")
    team = make_page(title="Team", slug="team", parent=about)
    post = make_post(title="Hello world")
    menu = make_menu("header")
    top = MenuItem.objects.create(menu=menu, page=about, order=20)
    MenuItem.objects.create(menu=menu, page=team, parent=top, order=1)
    MenuItem.objects.create(menu=menu, post=post, label="Start here", order=10)
    MenuItem.objects.create(menu=menu, url="https://example.org/", label="Elsewhere")
    html = client.get("/").text
    assert header_links(html) == ["Start here", "About", "Team", "Elsewhere"]
    assert f'<a href="{team.get_absolute_url()}">Team</a></li></ul>' in html


def test_the_footer_shows_the_footer_menu_and_the_footer_text(client):
    menu = make_menu("footer")
    MenuItem.objects.create(menu=menu, category=make_category(name="Archive"))
    tag_item = MenuItem.objects.create(
        menu=menu, tag=make_post(tags=("knees",)).tags.get()
    )
    set_site_identity(footer_text="Written in Lisbon.\nSince 2009.")
    html = client.get("/").text
    assert footer_links(html) == ["Archive", "knees"]
    assert tag_item.href == "/tag/knees/"
    assert "Written in Lisbon.<br>Since 2009." in html


@pytest.mark.parametrize(
    "fields",
    [
        {"status": "draft"},
        {"status": "private"},
        {"status": "published", "published_at": timezone.now() + timedelta(days=1)},
    ],
    ids=["draft", "private", "scheduled"],
)
def test_links_to_hidden_pages_and_posts_are_left_out_of_menus(client, fields):
    menu = make_menu("header")
    MenuItem.objects.create(menu=menu, page=make_page(title="Plans", **fields))
    MenuItem.objects.create(menu=menu, post=make_post(title="Secret", **fields))
    MenuItem.objects.create(menu=menu, page=make_page(title="About"))
    assert header_links(client.get("/").text) == ["About"]


def test_a_menu_change_shows_on_the_next_request_with_the_page_cache_on(client):
    about = make_page(title="About", slug="about")
    menu = make_menu("header")
    MenuItem.objects.create(menu=menu, page=about)
    client.get("/")
    assert client.get("/")["X-Page-Cache"] == "hit"
    client.get(about.get_absolute_url())

    contact = MenuItem.objects.create(menu=menu, url="/contact/", label="Contact")
    response = client.get("/")
    assert response["X-Page-Cache"] == "miss"
    assert header_links(response.text) == ["About", "Contact"]
    assert header_links(client.get(about.get_absolute_url()).text) == [
        "About",
        "Contact",
    ]

    contact.order, contact.label = 0, "Write to us"
    contact.save()
    about.title = "Who we are"
    about.save()
    assert header_links(client.get("/").text) == ["Write to us", "Who we are"]

    menu.location = ""
    menu.save()
    assert header_links(client.get("/").text) == ["Home"]


def test_a_new_link_goes_after_the_others_unless_given_a_place():
    menu = make_menu("header")
    first = MenuItem.objects.create(menu=menu, url="/a/", label="A", order=5)
    second = MenuItem.objects.create(menu=menu, url="/b/", label="B")
    assert second.order == first.order + 10
    assert list(menu.items.values_list("label", flat=True)) == ["A", "B"]


def menu_form(menu: Menu | None, links: list[dict], **fields) -> dict:
    """The menu editor's form as a browser sends it."""
    existing = list(menu.items.all()) if menu else []
    data = {
        "name": fields.get("name", menu.name if menu else "Header"),
        "location": fields.get("location", menu.location if menu else "header"),
        "items-TOTAL_FORMS": str(len(links)),
        "items-INITIAL_FORMS": str(len(existing)),
        "items-MIN_NUM_FORMS": "0",
        "items-MAX_NUM_FORMS": "1000",
    }
    for number, link in enumerate(links):
        for name in ("id", "label", "order", "page", "post", "category", "tag"):
            data[f"items-{number}-{name}"] = str(link.get(name, ""))
        data[f"items-{number}-url"] = link.get("url", "")
        data[f"items-{number}-parent"] = str(link.get("parent", ""))
        data[f"items-{number}-menu"] = str(menu.pk) if menu else ""
    return data


def test_the_menu_editor_saves_links_and_their_order(admin_client, client):
    about = make_page(title="About", slug="about")
    response = admin_client.get("/admin/blog/menu/add/")
    assert response.status_code == 200
    assert "js/menu-order.js" in response.text
    response = admin_client.post(
        "/admin/blog/menu/add/",
        menu_form(
            None,
            [
                {"page": about.pk, "order": 2},
                {"url": "mailto:me@example.org", "label": "Mail me", "order": 1},
            ],
        ),
    )
    assert response.status_code == 302, response.text
    menu = Menu.objects.get()
    assert header_links(client.get("/").text) == ["Mail me", "About"]
    mail, page = menu.items.all()
    response = admin_client.post(
        f"/admin/blog/menu/{menu.pk}/change/",
        menu_form(
            menu,
            [
                {"id": mail.pk, "url": mail.url, "label": "Mail me", "order": 20},
                {"id": page.pk, "page": about.pk, "order": 10},
            ],
        ),
    )
    assert response.status_code == 302, response.text
    assert header_links(client.get("/").text) == ["About", "Mail me"]


@pytest.mark.parametrize(
    ("link", "message"),
    [
        ({"url": "javascript:alert(1)", "label": "x"}, "Start the address with"),
        ({"label": "Nothing"}, "Pick exactly one thing to link to"),
        ({"url": "/a/", "page": "PAGE"}, "Pick exactly one thing to link to"),
    ],
    ids=["script-url", "no-target", "two-targets"],
)
def test_a_bad_link_is_refused_with_a_clear_message(admin_client, link, message):
    page = make_page()
    link = {key: page.pk if value == "PAGE" else value for key, value in link.items()}
    response = admin_client.post("/admin/blog/menu/add/", menu_form(None, [link]))
    assert response.status_code == 200
    assert message in response.text
    assert not Menu.objects.exists()


def test_sub_links_go_one_level_deep_only(admin_client):
    menu = make_menu("header")
    top = MenuItem.objects.create(menu=menu, url="/a/", label="A")
    child = MenuItem.objects.create(menu=menu, url="/b/", label="B", parent=top)
    response = admin_client.post(
        f"/admin/blog/menu/{menu.pk}/change/",
        menu_form(
            menu,
            [
                {"id": top.pk, "url": "/a/", "label": "A", "order": 10},
                {
                    "id": child.pk,
                    "url": "/b/",
                    "label": "B",
                    "order": 20,
                    "parent": top.pk,
                },
                {"url": "/c/", "label": "C", "order": 30, "parent": child.pk},
            ],
        ),
    )
    assert response.status_code == 200
    assert not MenuItem.objects.filter(label="C").exists()


def test_two_menus_cannot_share_a_place(admin_client):
    make_menu("header", name="Main")
    response = admin_client.post(
        "/admin/blog/menu/add/", menu_form(None, [], name="Other", location="header")
    )
    assert response.status_code == 200
    assert "Another menu is already shown there." in response.text


def png_upload(name: str = "logo.png") -> SimpleUploadedFile:
    buffer = BytesIO()
    Image.new("RGB", (4, 2), (10, 120, 200)).save(buffer, "PNG")
    # Trailing bytes a re-encoding drops.
    return SimpleUploadedFile(name, buffer.getvalue() + b"<script>", "image/png")


def test_the_site_identity_is_edited_in_the_admin_and_shows_at_once(
    admin_client, client
):
    before = SiteIdentity.current().title
    assert f"<title>{before}</title>" in client.get("/").text
    response = admin_client.get("/admin/blog/siteidentity/")
    assert response.status_code == 302
    form = admin_client.get(response["Location"])
    assert f'value="{before}"' in form.text
    response = admin_client.post(
        response["Location"],
        {
            "title": "Backs and necks",
            "tagline": "Notes from a physiotherapist",
            "logo": png_upload(),
            "footer_text": "Thanks for reading.",
            "description": "A blog about backs.",
            "posts_per_page": "5",
        },
    )
    assert response.status_code == 302
    identity = SiteIdentity.current()
    assert identity.logo.name.endswith(".png")
    assert b"<script>" not in identity.logo.read()
    html = client.get("/").text
    assert "<title>Backs and necks</title>" in html
    assert '<p class="site-tagline">Notes from a physiotherapist</p>' in html
    assert f'src="{identity.logo.url}"' in html
    assert "Thanks for reading." in html
    assert 'content="A blog about backs."' in html
