"""The site the theme checks look at: the original article with a 50-comment
thread (the post's author answering now and then, some likes), two more
posts with tags, a page, the site identity and menus as an administrator
would set them.

`build()` runs in the test database (test_theme.py) or, for Lighthouse, in
a database of its own, through `manage.py shell` after `migrate`
(test_lighthouse.py).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.core.management import call_command

from blog.models import Menu, MenuItem, Page, Post
from comments.models import PostLike
from tests.factories import (
    make_category,
    make_discussion,
    make_page,
    make_post,
    make_user,
    set_site_identity,
)

ARTICLE_SLUG = "back-spasm-symptoms-you-should-know"

LONG_BODY = """Stiff in the morning? These are the stretches physiotherapists
suggest most often, in the order that warms the back up gently.[^1]

## Before you start

Move slowly and stop where it hurts. Breathe out as you stretch. A stiff
back is a back that has been still for too long: a night in one position, a
day at a desk, a long drive. The muscles along the spine shorten a little,
and the first movements of the morning feel like work. Stretching lengthens
them again, warms them, and tells the nervous system that moving is safe.

Start on the floor, on a mat or a folded blanket, in clothes that let you
bend. Keep a glass of water near. If a stretch makes the pain sharper,
shooting or numb, stop there: that is a sign to see someone, not to push.
Otherwise, go to the point of a gentle pull, hold it, breathe, and let the
muscle give a little more with each breath out. Nothing here should be
fast; nothing should bounce. Ten slow minutes are worth more than thirty
hurried ones, and a routine you keep every day is worth more than a long
one you do once a week.

The routine below has two parts, one for the morning and one for the
evening. The morning part wakes the back up; the evening part undoes the
day. Each stretch is shown with how long to hold it and how often to do it.

> Ten minutes a day does more than an hour on Sunday.

## Morning

1. **Cat–cow**, ten times.
2. **Child’s pose**, thirty seconds.
3. **Knee to chest**, each side.

## Evening

| Stretch | Hold | Repeat |
| --- | --- | --- |
| Pelvic tilt | 5 s | 10 |
| Bridge | 10 s | 8 |

```python
def routine(minutes=10):
    return ["cat-cow", "child's pose", "knee to chest"][: minutes // 3]
```

[^1]: Ask your doctor first if the pain is new or sharp.
"""


@dataclass
class ThemeSite:
    article: Post
    tagged: Post
    page: Page


def build() -> ThemeSite:
    call_command("loaddata", "original_article", verbosity=0)
    article = Post.objects.get(slug=ARTICLE_SLUG)
    set_site_identity(
        title="Inkwell",
        tagline="Notes on backs, sleep and moving well",
        footer_text="Written and kept by the Inkwell team. Words © their authors.",
    )
    ada = make_user(
        username="ada", first_name="Ada", last_name="Lovelace", email="ada@example.com"
    )
    grace = make_user(
        username="grace", first_name="Grace", last_name="Hopper", email="g@example.com"
    )
    tagged = make_post(
        title="Stretches for a stiff back",
        author=ada,
        category=article.category,
        body=LONG_BODY,
        tags=("stretching", "posture"),
    )
    sleep = make_category(name="Sleep", slug="sleep")
    make_post(
        title="How a better pillow helped my neck",
        author=grace,
        category=sleep,
        body="A short story about a pillow, and three nights of better sleep.",
        tags=("sleep",),
    )
    page = make_page(
        title="About this blog",
        slug="about",
        author=ada,
        body="We write about **backs**, sleep and moving well.\n\n"
        "## Who we are\n\nTwo friends who once had bad backs.",
    )
    header = Menu.objects.create(name="Main", location=Menu.Location.HEADER)
    MenuItem.objects.create(menu=header, order=1, label="Home", url="/")
    MenuItem.objects.create(menu=header, order=2, category=article.category)
    MenuItem.objects.create(menu=header, order=3, category=sleep)
    MenuItem.objects.create(menu=header, order=4, page=page)
    footer = Menu.objects.create(name="Footer", location=Menu.Location.FOOTER)
    MenuItem.objects.create(menu=footer, order=1, page=page)
    # The thread: anonymous readers, two registered ones and the post's author.
    make_discussion(
        post=article,
        comments=50,
        users=(None, grace, None, article.author, ada),
        thread_sizes=(1, 3, 2, 4),
    )
    for user in (ada, grace):
        PostLike.objects.create(post=article, user=user)
    PostLike.objects.create(post=article, visitor="v" * 32)
    return ThemeSite(article=article, tagged=tagged, page=page)
