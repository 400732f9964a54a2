"""The site's language and time zone (blog/locale.py): chosen in the admin,
defaulting to the environment's, applied to pages, caches, scripts and mail."""
# ruff: noqa: RUF001 (Chinese and Arabic text has its own punctuation and letters)

import datetime
import os
import re
import subprocess
import sys

import pytest
from django.conf import settings
from django.core.cache import cache
from django.utils import timezone, translation

from blog import pagecache
from blog.models import SiteIdentity
from tests.factories import make_comment, make_post, make_user, set_site_identity

pytestmark = pytest.mark.django_db


def html_tag(content: bytes) -> str:
    return re.search(r"<html[^>]*>", content.decode()).group(0)


def test_pages_are_in_english_left_to_right_by_default(client):
    response = client.get(make_post().get_absolute_url())
    assert html_tag(response.content) == '<html lang="en" dir="ltr">'
    assert response["Content-Language"] == "en"


def test_the_environment_language_is_the_default(client, settings):
    settings.LANGUAGE_CODE = "de"
    response = client.get(make_post().get_absolute_url())
    assert html_tag(response.content) == '<html lang="de" dir="ltr">'


def test_arabic_chosen_in_the_admin_turns_every_page_right_to_left(client):
    post = make_post()
    set_site_identity(language="ar")
    for url in ["/", post.get_absolute_url(), "/search/?q=x", "/no-such-page/"]:
        assert html_tag(client.get(url).content) == '<html lang="ar" dir="rtl">', url


def test_a_change_of_language_shows_at_once_on_cached_pages(client):
    post = make_post()
    assert client.get(post.get_absolute_url())["X-Page-Cache"] == "miss"
    assert client.get(post.get_absolute_url())["X-Page-Cache"] == "hit"
    set_site_identity(language="zh-hans")
    response = client.get(post.get_absolute_url())
    assert response["X-Page-Cache"] == "miss"
    assert html_tag(response.content) == '<html lang="zh-hans" dir="ltr">'


def test_the_site_language_is_chosen_on_the_admin_site_identity_page(client):
    client.force_login(make_user(is_superuser=True, is_staff=True))
    set_site_identity()
    page = client.get("/admin/blog/siteidentity/1/change/").content.decode()
    assert '<option value="zh-hans">简体中文 (Simplified Chinese)</option>' in page
    assert '<option value="Asia/Shanghai">Asia/Shanghai</option>' in page
    data = {
        "title": "博客",
        "description": "文章",
        "posts_per_page": "10",
        "language": "zh-hans",
        "time_zone": "Asia/Shanghai",
    }
    response = client.post("/admin/blog/siteidentity/1/change/", data)
    assert response.status_code == 302
    identity = SiteIdentity.current()
    assert (identity.language, identity.time_zone) == ("zh-hans", "Asia/Shanghai")
    # The admin itself now speaks the site's language (Django's own words).
    assert '<html lang="zh-hans"' in client.get("/admin/").content.decode()


def test_an_unknown_language_or_time_zone_is_refused_in_the_admin(client):
    client.force_login(make_user(is_superuser=True, is_staff=True))
    set_site_identity()
    data = {
        "title": "Blog",
        "description": "Posts",
        "posts_per_page": "10",
        "language": "xx",
        "time_zone": "Mars/Olympus",
    }
    response = client.post("/admin/blog/siteidentity/1/change/", data)
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert set(errors) == {"language", "time_zone"}
    assert SiteIdentity.current().language == ""


def test_dates_and_times_follow_the_site_time_zone(client):
    post = make_post(
        published_at=datetime.datetime(2026, 3, 31, 20, 30, tzinfo=datetime.UTC)
    )
    make_comment(
        post=post,
        submit_date=datetime.datetime(2026, 3, 31, 23, 30, tzinfo=datetime.UTC),
    )
    page = client.get(post.get_absolute_url(), follow=True).content.decode()
    assert "March 31, 2026 at 23:30" in page
    set_site_identity(time_zone="Asia/Shanghai")
    # Published on April 1st in Shanghai: the post's address moves with its
    # date, and the old one answers with a redirect.
    response = client.get(post.get_absolute_url(), follow=True)
    assert response.redirect_chain == [(f"/2026/04/{post.slug}/", 301)]
    page = response.content.decode()
    assert "April 1, 2026 at 07:30" in page
    assert '<time datetime="2026-04-01T07:30:00+08:00">' in page


def test_dates_follow_the_site_language(client):
    post = make_post(
        published_at=datetime.datetime(2026, 3, 5, 10, 0, tzinfo=datetime.UTC)
    )
    set_site_identity(language="zh-hans")
    assert "2026年3月5日" in client.get(post.get_absolute_url()).content.decode()
    set_site_identity(language="de")
    assert "5. März 2026" in client.get(post.get_absolute_url()).content.decode()


def test_a_time_zone_gone_from_the_system_falls_back_to_the_environment(client):
    # A row saved on a machine whose time zone database knew it.
    SiteIdentity.defaults().save()
    SiteIdentity.objects.update(time_zone="Gone/Away")
    pagecache.forget_all_pages()  # an update() sends no signal
    response = client.get(make_post().get_absolute_url())
    assert response.status_code == 200


def test_scripts_get_their_strings_from_a_catalogue_per_language(client):
    set_site_identity(language="fr")
    page = client.get(make_post().get_absolute_url()).content.decode()
    assert '<script src="/jsi18n/fr.js" defer></script>' in page
    response = client.get("/jsi18n/fr.js")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/javascript")
    assert "django.gettext" in response.content.decode()
    assert client.get("/jsi18n/xx.js").status_code == 404


def test_work_outside_a_request_uses_the_site_locale():
    from blog.locale import site_locale

    set_site_identity(language="de", time_zone="Europe/Berlin")
    with site_locale():
        assert translation.get_language() == "de"
        assert timezone.get_current_timezone_name() == "Europe/Berlin"
    assert translation.get_language() != "de"


# The shipped translations


# What a reader or a moderator sees, in the two languages the issue names,
# with the plural forms that differ from the English ones.
WORDS = {
    "zh-hans": {
        "leave_a_reply": "发表回复",
        "post_comment": "发表评论",
        "notify_me": "有后续评论时用电子邮件通知我。",
        "reply": ">回复</a>",
        "two_comments": "“你好世界”上有 2 条评论",
        "likes": "成为第一个赞的人。",
        "date": "2026年3月5日 10:00",
        "closed": "这篇文章的评论已关闭。",
        "required": "请写下你的评论。",
        "confirm_subject": "请确认你在“你好世界”上的评论",
        "confirm_body": "请确认这是你的电子邮件地址",
        "confirm_button": "确认我的评论",
        "held_subject": "“你好世界”上的一条评论等待审核",
        "held_reason": "扣留原因：所有评论都需审核",
        "approve": "批准：",
    },
    "ar": {
        "leave_a_reply": "اترك ردًا",
        "post_comment": "أرسل التعليق",
        "notify_me": "أعلمني بالتعليقات اللاحقة عبر البريد الإلكتروني.",
        "reply": ">رد</a>",
        "two_comments": "تعليقان على «你好世界»",
        "likes": "كن أول من يعجب بهذا.",
        "date": "5 مارس، 2026 الساعة 10:00 ص",
        "closed": "التعليقات مغلقة على هذه المقالة.",
        "required": "يرجى كتابة تعليقك.",
        "confirm_subject": "يرجى تأكيد تعليقك على «你好世界»",
        "confirm_body": "يرجى تأكيد أن هذا عنوان بريدك الإلكتروني",
        "confirm_button": "أكّد تعليقي",
        "held_subject": "تعليق على «你好世界» ينتظر المراجعة",
        "held_reason": "احتُجز بسبب: كل التعليقات محتجزة",
        "approve": "وافق عليه:",
    },
}
ENGLISH = ["Leave a Reply", "Post Comment", "Notify me", ">Reply</a>", "comments on"]


@pytest.fixture(params=sorted(WORDS))
def language(request, lenient_moderation) -> str:
    set_site_identity(language=request.param)
    return request.param


@pytest.fixture
def chinese_post():
    return make_post(
        title="你好世界", slug="你好世界", body="## 标题\n\n正文。", allow_comments=True
    )


def test_the_post_page_and_leave_a_reply_in_the_site_language(
    client, language, chinese_post
):
    words = WORDS[language]
    for _ in range(2):
        make_comment(
            post=chinese_post,
            submit_date=datetime.datetime(2026, 3, 5, 10, 0, tzinfo=datetime.UTC),
        )
    page = client.get(chinese_post.get_absolute_url()).content.decode()
    for key in ("leave_a_reply", "post_comment", "notify_me", "reply"):
        assert words[key] in page, key
    assert words["two_comments"] in page
    assert words["likes"] in page
    assert words["date"] in page
    for english in ENGLISH:
        assert english not in page, english


def test_a_refused_comment_is_explained_in_the_site_language(
    client, language, chinese_post
):
    from tests.test_comments import form_data

    words = WORDS[language]
    response = client.post("/comments/post/", form_data(chinese_post, comment=""))
    assert response.status_code == 400
    assert words["required"] in response.content.decode()
    Post = type(chinese_post)
    Post.objects.filter(pk=chinese_post.pk).update(allow_comments=False)
    response = client.post("/comments/post/", form_data(chinese_post))
    assert response.status_code == 400
    page = response.content.decode()
    assert words["closed"] in page
    assert "A thoughtful comment." in page  # the reader's text is kept


def test_the_confirmation_mail_is_in_the_site_language(
    client, language, chinese_post, mailoutbox, settings
):
    settings.COMMENTS_XTD_CONFIRM_EMAIL = True
    from tests.test_comments import form_data

    words = WORDS[language]
    client.post("/comments/post/", form_data(chinese_post))
    [message] = mailoutbox
    assert message.subject == words["confirm_subject"]
    assert words["confirm_body"] in message.body
    html = message.alternatives[0][0]
    assert words["confirm_button"] in html
    assert f'<html lang="{language}" dir="{"rtl" if language == "ar" else "ltr"}">' in (
        html
    )


def test_the_moderation_mail_is_in_the_site_language(
    client, language, chinese_post, mailoutbox, settings
):
    from comments.models import DiscussionSettings
    from tests.test_comments import form_data

    settings.COMMENTS_XTD_CONFIRM_EMAIL = False
    make_user(username="mod", email="mod@example.com", groups=("Moderators",))
    DiscussionSettings.objects.filter(pk=1).update(hold_policy="always")
    cache.clear()
    words = WORDS[language]
    client.post("/comments/post/", form_data(chinese_post))
    message = next(m for m in mailoutbox if m.to == ["mod@example.com"])
    assert message.subject == words["held_subject"]
    assert words["held_reason"] in message.body
    assert words["approve"] in message.body


def test_mail_sent_outside_a_request_is_in_the_site_language(mailoutbox):
    from comments.notifications import notify_moderators

    make_user(username="mod", email="mod@example.com", groups=("Moderators",))
    comment = make_comment(post=make_post(title="你好世界"), state="held")
    set_site_identity(language="zh-hans")
    mailoutbox.clear()
    notify_moderators(comment)
    message = next(m for m in mailoutbox if m.to == ["mod@example.com"])
    assert message.subject == WORDS["zh-hans"]["held_subject"]
    assert "扣留原因：需要审核员看一看" in message.body
    assert translation.get_language() != "zh-hans"


def test_plural_forms_follow_the_language(client, chinese_post):
    from comments.likes import LikeSummary

    set_site_identity(language="ar")
    with translation.override("ar"):
        lines = [LikeSummary(count=n).line for n in (1, 2, 3, 11, 100, 1000)]
    assert lines == [
        "أُعجب مدوّن واحد بهذا.",
        "أُعجب مدوّنان بهذا.",
        "أُعجب 3 مدوّنين بهذا.",
        "أُعجب 11 مدوّنًا بهذا.",
        "أُعجب 100 مدوّن بهذا.",
        "أُعجب 1000 مدوّن بهذا.",
    ]
    with translation.override("fr"):
        # French: 0 and 1 are singular.
        from comments.models import reason_display

        assert reason_display("1 links") == "1 lien"
    with translation.override("de"):
        assert LikeSummary(count=1234).line == "1.234 Bloggern gefällt das."


def test_scripts_get_the_site_language_strings(client):
    response = client.get("/jsi18n/zh-hans.js").content.decode()
    assert '"Copy": "\\u590d\\u5236"' in response or '"Copy": "复制"' in response
    arabic = client.get("/jsi18n/ar.js").content.decode()
    assert "n==0 ? 0 : n==1 ? 1 : n==2 ? 2" in arabic  # six plural forms


# Content in any script


def test_posts_pages_categories_and_tags_answer_at_unicode_addresses(client):
    from urllib.parse import quote, unquote

    from tests.factories import make_category, make_page

    category = make_category(name="健康", slug="健康")
    post = make_post(
        title="背痛的症状", slug="背痛的症状", category=category, tags=("腰背",)
    )
    page = make_page(title="关于", slug="关于")
    # Addresses are written percent-encoded (what browsers send)...
    assert category.get_absolute_url() == "/category/%E5%81%A5%E5%BA%B7/"
    for url in [
        post.get_absolute_url(),
        category.get_absolute_url(),
        "/tag/%E8%85%B0%E8%83%8C/",
        page.get_absolute_url(),
    ]:
        # ...and answer so, in lower-case hex, or as plain Unicode.
        for form in (url, url.lower(), unquote(url)):
            response = client.get(form)
            assert response.status_code == 200, form
        assert quote(unquote(url)) == url


def test_a_chinese_post_is_found_by_a_chinese_search(client):
    """On SQLite and on PostgreSQL (whose parser does not split Chinese
    words): substrings of the title and text, ranked title first."""
    in_title = make_post(
        title="你应该知道的背部痉挛症状",
        slug="背部痉挛症状",
        body="背部痉挛可能是一种轻微的不适，也可能让人无法动弹。",
    )
    in_text = make_post(
        title="伸展运动",
        slug="伸展运动",
        body="每天早上做十分钟伸展运动，可以减少背部痉挛的次数。" * 8,
    )
    make_post(title="头痛", slug="头痛", body="休息和喝水。")
    assert in_title.slug == "背部痉挛症状"

    page = client.get("/search/", {"q": "背部痉挛"}).content.decode()
    assert "2 posts found." in page
    assert page.index(in_title.get_absolute_url()) < page.index(
        in_text.get_absolute_url()
    )
    assert "<mark>背部痉挛</mark>" in page
    # Every word of the query, anywhere; a word nowhere finds nothing.
    page = client.get("/search/", {"q": "伸展 次数"}).content.decode()
    assert "1 post found." in page and in_text.get_absolute_url() in page
    assert "No posts match" in client.get("/search/", {"q": "感冒"}).content.decode()
    # A snippet of a long Chinese text is cut around the match, not whole.
    snippet = page.split('class="search-result__snippet" dir="auto">')[1]
    snippet = snippet.split("</p>")[0]
    assert "<mark>伸展</mark>" in snippet and snippet.endswith("…")
    assert len(re.sub("</?mark>", "", snippet)) <= 81


def test_a_chinese_titled_post_written_in_the_admin_keeps_its_chinese_slug(
    admin_client,
):
    """The slug the admin's script makes from a Chinese title (make e2e
    checks the script: 你好 世界 gives 你好-世界) is accepted as it is, and the
    post is found by a Chinese search, on either database."""
    from tests.test_admin import form_data

    data = form_data(
        title="你好 世界",
        slug="你好-世界",
        body="这是一篇关于背部痉挛的文章。",
        status="published",
        author=make_user(username="li").pk,
    )
    response = admin_client.post("/admin/blog/post/add/", data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    post = type(make_post()).objects.get(title="你好 世界")
    assert post.slug == "你好-世界"
    assert "/%E4%BD%A0%E5%A5%BD-%E4%B8%96%E7%95%8C/" in post.get_absolute_url()
    page = admin_client.get("/search/", {"q": "背部痉挛"}).content.decode()
    assert post.get_absolute_url() in page


def run_check(language_code: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "LANGUAGE_CODE": language_code}
    return subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
    )


def test_a_language_django_knows_but_we_do_not_ship_still_starts():
    assert run_check("ja").returncode == 0
    refused = run_check("xx")
    assert refused.returncode != 0
    assert "LANGUAGE_CODE='xx' is not a language Django knows" in refused.stderr


def test_summaries_of_chinese_text_end_their_blocks_with_a_chinese_full_stop():
    from blog.markup import plain_summary

    summary = plain_summary(
        "## 症状\n\n- 突然的剧痛\n- 肌肉僵硬\n\n先休息。\n\nمرحبا بكم\n\nEnd"
    )
    assert summary == "突然的剧痛。 肌肉僵硬。 先休息。 مرحبا بكم. End"


# What authors and moderators see in the admin


def test_the_admin_forms_lists_and_actions_are_in_the_site_language(admin_client):
    make_post(title="你好")
    set_site_identity(language="zh-hans")
    form = admin_client.get("/admin/blog/post/add/").content.decode()
    for label in ("标题", "别名", "正文", "摘要", "状态", "摘要与分享"):
        assert label in form, label
    listing = admin_client.get("/admin/blog/post/").content.decode()
    assert "发布所选文章" in listing and "Publish selected posts" not in listing
    queue = admin_client.get("/admin/comments/comment/").content.decode()
    assert "待审核 (0)" in queue and "Pending (0)" not in queue
    # What Django's own Chinese lacks (the app list's hidden headings).
    index = admin_client.get("/admin/").content.decode()
    assert "模型名称" in index and "Model name" not in index


def test_an_import_report_is_written_in_the_site_language(admin_client, database_tasks):
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.utils.html import escape

    from blog import importing
    from blog.models import ImportJob
    from tests.test_wordpress_import import item_xml, wxr

    set_site_identity(language="ar")
    export = wxr(item_xml(1, status="trash") + item_xml(2, slug="ok", status="pending"))
    admin_client.post(
        "/admin/blog/importjob/add/",
        {"export": SimpleUploadedFile("old.xml", export.encode())},
    )
    job = ImportJob.objects.get()
    importing.check_import.call(job.pk)  # what the worker does, outside a request
    page = admin_client.get(f"/admin/blog/importjob/{job.pk}/change/").content.decode()
    assert escape("تُخطّيت المقالات ذات الحالة 'trash'") in page
    assert "استُوردت المقالات المعلّقة مسودات" in page
    assert "posts with status" not in page
    # The list's summary of what the import would bring.
    listing = admin_client.get("/admin/blog/importjob/").content.decode()
    assert "تجربة: الكتّاب: 1" in listing


def test_a_file_that_is_not_an_export_is_refused_in_the_site_language(admin_client):
    from django.core.files.uploadedfile import SimpleUploadedFile

    set_site_identity(language="de")
    response = admin_client.post(
        "/admin/blog/importjob/add/",
        {"export": SimpleUploadedFile("notes.xml", b"<notes><note/></notes>")},
    )
    page = response.content.decode()
    assert "Das ist kein WordPress-Export: Das Dokument ist &lt;notes&gt;" in page
    assert "This is not a WordPress export" not in page


def test_an_import_waiting_for_a_silent_worker_says_so_in_the_site_language(
    admin_client, database_tasks
):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from blog.models import ImportJob, TaskWorker
    from tests.test_wordpress_import import item_xml, wxr

    set_site_identity(language="zh-hans")
    admin_client.post(
        "/admin/blog/importjob/add/",
        {"export": SimpleUploadedFile("old.xml", wxr(item_xml()).encode())},
    )
    url = f"/admin/blog/importjob/{ImportJob.objects.get().pk}/change/"
    assert "还没有任务进程签到" in admin_client.get(url).content.decode()
    TaskWorker.objects.create(
        worker_id="w1",
        host="here",
        pid=1,
        checked_in_at=timezone.now() - datetime.timedelta(seconds=300),
    )
    assert "任务进程已有 300 秒没有签到" in admin_client.get(url).content.decode()


def test_the_moderation_log_names_actions_and_states_in_the_site_language(
    admin_client,
):
    from comments import moderation

    held = make_comment(post=make_post(), state="held")
    moderation.apply_action(held, "approve")
    moderation.apply_action(make_comment(post=make_post(), state="held"), "spam")
    set_site_identity(language="zh-hans")
    page = admin_client.get("/admin/comments/moderationlog/").content.decode()
    # The filter and the rows: 批准 (Approve), 待审核 -> 已批准 (its states).
    assert 'href="?action=approve"' in page and ">批准</a>" in page
    assert "<td class=\"field-old_state_label\">待审核</td>" in page
    assert "<td class=\"field-new_state_label\">已批准</td>" in page
    only = admin_client.get("/admin/comments/moderationlog/?action=approve")
    assert only.context["cl"].result_count == 1
