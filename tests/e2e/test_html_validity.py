"""The Nu HTML checker finds no error in the HTML the server sends."""

from django.utils import timezone


def test_public_pages_are_valid_html(page, html_checker, site, browser_watch):
    published = timezone.localtime(site.article.published_at)
    urls = {
        "home": "/",
        "post": site.article.get_absolute_url(),
        "post-with-tags": site.tagged.get_absolute_url(),
        "category": site.article.category.get_absolute_url(),
        "tag": "/tag/stretching/",
        "author": "/author/inkwell/",
        "archive-year": f"/{published.year}/",
        "archive-month": f"/{published.year}/{published.month:02d}/",
        "search": "/search/?q=back+spasm",
        "search-nothing-found": "/search/?q=zebra",
        "404": "/no-such-page/",
    }
    browser_watch.expect_status("/no-such-page/", 404)
    documents = {}
    for name, url in urls.items():
        response = page.goto(url)
        assert response.status == (404 if name == "404" else 200), url
        documents[name] = response.text()

    assert html_checker(documents) == ""
