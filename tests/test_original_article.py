"""The shipped fixture holds the seed article faithfully and renders it."""

import html
import re
from pathlib import Path

import pytest
from django.core.management import call_command
from django.utils.html import strip_tags

from blog.models import Post

SEED = Path(__file__).resolve().parent.parent / "fixtures" / "original_article.txt"


def seed_body_lines() -> list[str]:
    lines = SEED.read_text(encoding="utf-8").splitlines()
    start = lines.index("Back Spasm Symptoms You Should Know") + 1
    end = lines.index("Leave a Reply")
    return [
        line.strip().lstrip("• ").strip() for line in lines[start:end] if line.strip()
    ]


def sentences(text: str) -> list[str]:
    return [part for part in re.split(r"(?<=[.!?])\s+", text) if part]


@pytest.fixture
def article(db) -> Post:
    call_command("loaddata", "original_article", verbosity=0)
    return Post.objects.get(slug="back-spasm-symptoms-you-should-know")


def test_page_shows_every_seed_sentence_headings_list_and_breadcrumb(client, article):
    response = client.get(article.get_absolute_url())
    assert response.status_code == 200
    page = response.content.decode()
    text = " ".join(html.unescape(strip_tags(page)).split())

    for line in seed_body_lines():
        for sentence in sentences(line):
            assert sentence in text, sentence

    assert '<h2 id="back-spasm-symptoms">Back Spasm Symptoms</h2>' in page
    assert '<h2 id="upper-back-symptoms">Upper Back Symptoms</h2>' in page
    body = page.split('class="post__body"')[1].split("</article>")[0]
    items = re.findall(r"<li>(.*?)</li>", body)
    assert items == [
        "Severe pain back.",
        "Waves of muscle pain and distress that is sensed in the back even when "
        "there’s a little motion of arms or the legs.",
        "The spine feels stiff and hurts every time you go.",
        "Temporary immobility of the back.",
        "Pain in the back flares up with slight or drawn-out move.",
        "Whereas, sleep or lying down will briefly give some respite to a man, "
        "the pain wills increase.",
    ]
    assert "Home › Back Spasm Symptoms › Back Spasm Symptoms You Should Know" in text
    assert 'itemtype="https://schema.org/BreadcrumbList"' in page


def test_fixture_files_the_post_under_its_category(article):
    assert article.title == "Back Spasm Symptoms You Should Know"
    assert article.category.name == "Back Spasm Symptoms"
    assert article.is_public


def test_fixture_loads_twice_without_duplicating(article):
    call_command("loaddata", "original_article", verbosity=0)
    assert Post.objects.count() == 1
