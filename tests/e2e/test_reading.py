"""A reader opens the original article in a real browser."""

import pytest
from django.core.management import call_command

from blog.models import Post


@pytest.fixture
def article(live_server) -> Post:
    call_command("loaddata", "original_article", verbosity=0)
    return Post.objects.get(slug="back-spasm-symptoms-you-should-know")


def test_original_article_reads_as_on_the_original_site(page, article, browser_watch):
    page.goto(article.get_absolute_url())

    assert page.locator("h1").inner_text() == "Back Spasm Symptoms You Should Know"
    breadcrumb = " ".join(
        page.get_by_role("navigation", name="Breadcrumb").inner_text().split()
    )
    assert breadcrumb == (
        "Home › Back Spasm Symptoms › Back Spasm Symptoms You Should Know"
    )
    body = page.locator(".post__body")
    assert body.get_by_role("heading", level=2).all_inner_texts() == [
        "Back Spasm Symptoms",
        "Upper Back Symptoms",
    ]
    assert body.get_by_role("listitem").all_inner_texts() == [
        "Severe pain back.",
        "Waves of muscle pain and distress that is sensed in the back even when "
        "there’s a little motion of arms or the legs.",
        "The spine feels stiff and hurts every time you go.",
        "Temporary immobility of the back.",
        "Pain in the back flares up with slight or drawn-out move.",
        "Whereas, sleep or lying down will briefly give some respite to a man, "
        "the pain wills increase.",
    ]
    stylesheet = page.evaluate(
        "getComputedStyle(document.querySelector('.skip-link')).position"
    )
    assert stylesheet == "absolute", "site.css did not load"
    browser_watch.assert_clean()
