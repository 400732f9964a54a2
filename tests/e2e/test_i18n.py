"""The site in Chinese and in Arabic (right to left): the post page with a
threaded discussion at 360 and 1280 px, light and dark (screenshots
i18n-LANG-SCHEME-WIDTH.png),
axe and the Nu checker on it, replies indented from the start side, and
the admin's slug filled in from a Chinese title."""

# ruff: noqa: RUF001 (Chinese text has Chinese punctuation)
from __future__ import annotations

import pytest

from tests.e2e.conftest import ARTIFACTS
from tests.e2e.test_accessibility import serious
from tests.e2e.test_theme import WIDTHS, watched
from tests.factories import (
    make_category,
    make_comment,
    make_post,
    make_user,
    set_site_identity,
)

BODY = """## 症状

背部痉挛可能是一种轻微的不适，也可能让人无法动弹。

- 突然的剧痛
- 肌肉僵硬

> 先休息，再慢慢活动。

    print("代码从左到右")
"""


@pytest.fixture
def chinese_post(live_server):
    category = make_category(name="背部健康", slug="背部健康")
    post = make_post(
        title="你应该知道的背部痉挛症状",
        slug="背部痉挛症状",
        category=category,
        body=BODY,
        tags=("腰背", "健康"),
        author=make_user(username="li", first_name="李", last_name="华"),
    )
    first = make_comment(post=post, name="王芳", body="写得很清楚，谢谢！")
    reply = make_comment(post=post, parent=first, name="Samir", body="شكرًا جزيلًا")
    make_comment(post=post, parent=reply, name="张伟", body="我也有同感。")
    make_comment(post=post, name="Lina", body="مقالة مفيدة جدًا.")
    for number in range(12):  # two pages of the home page's list
        make_post(title=f"第{number}篇文章", slug=f"文章-{number}", category=category)
    return post


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("language", ["zh-hans", "ar"])
def test_the_post_page_in_chinese_and_arabic(
    browser,
    live_server,
    browser_watch,
    axe,
    html_checker,
    chinese_post,
    language,
    scheme,
):
    set_site_identity(language=language)
    rtl = language == "ar"
    problems, documents = [], {}
    for width_name, (width, height) in WIDTHS.items():
        context, page = watched(
            browser,
            live_server,
            browser_watch,
            viewport={"width": width, "height": height},
            color_scheme=scheme,
        )
        try:
            response = page.goto(chinese_post.get_absolute_url())
            assert response.status == 200
            documents[f"i18n-{language}-{width_name}"] = response.text()
            page.evaluate("document.fonts.ready")
            html = page.locator("html")
            assert html.get_attribute("lang") == language
            assert html.get_attribute("dir") == ("rtl" if rtl else "ltr")
            # Replies are indented from the start side: the right in Arabic.
            parent = page.locator(".comment-list > li").first.locator("article").first
            reply = page.locator(".comment-list--replies article").first
            outer, inner = parent.bounding_box(), reply.bounding_box()
            if rtl:
                assert inner["x"] + inner["width"] < outer["x"] + outer["width"] - 8
            else:
                assert inner["x"] > outer["x"] + 8
            # Nothing spills sideways on a phone.
            overflow = page.evaluate(
                "document.documentElement.scrollWidth"
                " - document.documentElement.clientWidth"
            )
            assert overflow <= 0, f"{width_name}: {overflow}px wider than the screen"
            # "Reply" moves the form under the comment, its title in the language.
            page.locator(".comment__reply").first.click()
            title = page.locator("#reply-title").inner_text()
            assert "王芳" in title and "Leave a Reply" not in title
            page.locator(".comment-form__cancel").click()
            shot = f"i18n-{language}-{scheme}-{width_name}"
            page.screenshot(path=ARTIFACTS / f"{shot}.png", full_page=True)
            problems += [f"{shot}: {p}" for p in serious(axe(page, shot))]
            # The lists around it: the home page and a search.
            for name, url in (("home", "/"), ("search", "/search/?q=背部")):
                response = page.goto(url)
                assert response.status == 200, url
                shot = f"i18n-{language}-{scheme}-{name}-{width_name}"
                documents[shot] = response.text()
                page.screenshot(path=ARTIFACTS / f"{shot}.png", full_page=True)
                problems += [f"{shot}: {p}" for p in serious(axe(page, shot))]
        finally:
            context.close()
    browser_watch.assert_clean()
    assert problems == []
    assert html_checker(documents) == ""


def test_a_chinese_title_gives_a_chinese_slug_in_the_admin(page, live_server):
    writer = make_user(username="writer", groups=("Authors",))
    make_post(title="草稿", author=writer)
    set_site_identity(language="zh-hans")
    # Signing in by the fields' ids: their labels are in Chinese now.
    page.goto("/admin/")
    page.locator("#id_username").fill("writer")
    page.locator("#id_password").fill("a-long-test-password")
    page.locator("#login-form [type=submit]").click()
    page.locator("#user-tools").wait_for()
    page.goto("/admin/blog/post/")
    page.locator("#result_list tbody input[type=checkbox]").first.check()
    assert page.locator(".action-counter").inner_text() == "选中了 1 个中的 1 个"
    page.goto("/admin/blog/post/add/")
    # Characters an input method composes come without key events: the
    # End key after them is what fires Django's prepopulate.
    page.locator("#id_title").fill("你好 世界")
    page.locator("#id_title").press("End")
    assert page.locator("#id_slug").input_value() == "你好-世界"
    # Django's own script strings as well as ours: both catalogues fill the
    # one object gettext() reads (its jquery.init.js replaces window.django).
    assert page.evaluate("[gettext('Today'), gettext('Copy')]") == ["今天", "复制"]
