"""Leave a Reply: the thread, posting, validation, replies, the remember cookie."""

import re
from unittest import mock

import pytest
from django.template.loader import render_to_string
from django.test import Client
from django.urls import reverse
from django_comments_xtd.conf import settings as xtd_settings

from blog.models import Post
from comments.forms import CommentForm
from comments.models import Comment, DiscussionSettings
from comments.signals import comment_submitted
from tests.factories import (
    comment_form_data,
    make_comment,
    make_page,
    make_post,
    make_user,
)

pytestmark = pytest.mark.django_db

POST_URL = "/comments/post/"


def form_data(post: Post, **fields) -> dict:
    return comment_form_data(post, **fields)


@pytest.fixture(autouse=True)
def _publishing_rules(lenient_moderation):
    """These tests are about posting, not about the moderation rules."""


@pytest.fixture
def no_confirmation(settings):
    settings.COMMENTS_XTD_CONFIRM_EMAIL = False


def discussion_html(response) -> str:
    """From the discussion to the end of the page's content (the footer,
    with its subscription form, is every page's)."""
    page = response.content.decode()
    return page[page.index('id="comments"') : page.index("</main>")]


# The post page


def test_post_page_shows_approved_comments_then_the_form(client):
    post = make_post()
    make_comment(post=post, body="Approved words")
    for state in ("held", "spam", "trash", "unconfirmed"):
        make_comment(post=post, body=f"Hidden {state} words", state=state)

    page = discussion_html(client.get(post.get_absolute_url()))

    assert "Approved words" in page
    assert "Hidden" not in page
    assert "1 comment on" in page
    assert page.index("Approved words") < page.index("Leave a Reply")
    for label in (
        "Name",
        "Email",
        "Website",
        "Comment",
        "Notify me of follow-up comments by email.",
        "Save my name, email, and website in this browser for the next time I comment.",
    ):
        assert f">{label}" in page, label
    assert "Not published." in page


def test_each_post_and_page_serves_a_form_that_posts_as_sent(client, no_confirmation):
    """The blank form is made once for every post (comments.forms.blank_form):
    each page still carries its own signed fields, and the form sent back as
    served (with the reader's answers) posts the comment."""
    for target in (make_post(), make_post(), make_page(allow_comments=True)):
        page = client.get(target.get_absolute_url()).content.decode()
        form = page[page.index('id="comment-form"') :]
        form = form[: form.index("</form>")]
        sent = dict(re.findall(r'type="hidden" name="(\w+)" value="([^"]*)"', form))
        assert sent["object_pk"] == str(target.pk)
        sent.update(name="Ada", email="ada@example.com", comment=f"On {target}.")
        assert client.post(POST_URL, sent).status_code == 302
        assert Comment.objects.get(comment=f"On {target}.").content_object == target


def test_closed_post_says_comments_are_closed(client):
    post = make_post(allow_comments=False)
    make_comment(post=post, body="Said before closing")
    page = discussion_html(client.get(post.get_absolute_url()))
    assert "Comments are closed." in page
    assert "Said before closing" in page
    assert "<form" not in page
    assert "comment__reply" not in page


def test_signed_in_reader_sees_logged_in_as_instead_of_name_and_email(client):
    client.force_login(make_user(username="grace", first_name="Grace"))
    response = client.get(make_post().get_absolute_url())
    page = discussion_html(response)
    assert "Logged in as Grace." in page
    assert "private" in response["Cache-Control"]
    assert 'name="name"' not in page
    assert 'name="email"' not in page


def test_comment_text_is_rendered_with_the_comment_markdown_subset(client):
    post = make_post()
    make_comment(
        post=post,
        body="**bold** [link](https://example.org) <script>alert(1)</script>\n\n# Big",
    )
    page = discussion_html(client.get(post.get_absolute_url()))
    assert "<strong>bold</strong>" in page
    assert '<a href="https://example.org" rel="nofollow ugc noopener">link</a>' in page
    assert "<script>alert" not in page
    assert "<h1>Big" not in page


def test_comment_dates_are_valid_html_datetimes(client):
    post = make_post()
    make_comment(post=post)
    page = discussion_html(client.get(post.get_absolute_url()))
    assert re.search(r'<time datetime="\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]', page)


def test_commenter_website_must_be_a_web_link(client):
    post = make_post()
    make_comment(post=post, name="Imported", user_url="javascript:alert(1)")
    page = discussion_html(client.get(post.get_absolute_url()))
    assert "javascript:" not in page
    assert "Imported" in page


@pytest.mark.parametrize(
    ("sent", "kept"),
    [
        ("Ada\r\nBcc: all@example.org", "Ada Bcc: all@example.org"),
        ("Ada \u202etxt.exe", "Ada txt.exe"),  # a right-to-left override
        ("A\u200bd\u2066a\u2069", "Ada"),  # zero-width space, isolates
        ("\U0001f469\u200d\U0001f4bb Dev", "\U0001f469\u200d\U0001f4bb Dev"),
    ],
    ids=["line-break", "bidi", "invisible", "emoji-zwj"],
)
def test_commenter_names_are_stored_without_control_characters(
    client, no_confirmation, sent, kept
):
    post = make_post()
    client.post(POST_URL, form_data(post, name=sent))
    assert Comment.objects.get().user_name == kept
    assert make_comment(post=post, name=sent).user_name == kept  # any way in


def test_a_name_of_nothing_but_control_characters_is_refused(client):
    response = client.post(POST_URL, form_data(make_post(), name="\u202e\u200b"))
    assert_form_back(response, "Please give your name.")


def test_a_website_with_control_characters_is_refused(client):
    post = make_post()
    url = "https://example.org/\u202egpj.exe"
    response = client.post(POST_URL, form_data(post, url=url))
    assert_form_back(response, "invisible or control characters")


# Posting


def test_anonymous_comment_awaits_email_confirmation(client, settings):
    settings.COMMENTS_XTD_CONFIRM_EMAIL = True
    post = make_post()
    received = []
    comment_submitted.connect(
        lambda **kwargs: received.append(kwargs), weak=False, dispatch_uid="t1"
    )
    try:
        response = client.post(POST_URL, form_data(post))
    finally:
        comment_submitted.disconnect(dispatch_uid="t1")

    comment = Comment.objects.get()
    assert comment.state == Comment.State.UNCONFIRMED
    assert not comment.is_public
    assert response.status_code == 302
    assert response.url == f"{post.get_absolute_url()}#respond"
    assert [kwargs["comment"] for kwargs in received] == [comment]
    assert received[0]["request"].method == "POST"
    follow = client.get(response.url)
    assert "We sent a link to ada@example.com" in follow.content.decode()
    assert "A thoughtful comment." not in discussion_html(follow)


def test_anonymous_comment_is_published_when_confirmation_is_off(
    client, no_confirmation
):
    post = make_post()
    response = client.post(POST_URL, form_data(post, followup="on"), follow=True)
    comment = Comment.objects.get()
    assert comment.state == Comment.State.PUBLIC
    assert comment.followup
    assert (comment.user_name, comment.user_email) == ("Ada Reader", "ada@example.com")
    assert response.redirect_chain[-1][0] == (
        f"{post.get_absolute_url()}?cpage=1#c{comment.pk}"
    )
    assert "A thoughtful comment." in discussion_html(response)


def test_signed_in_reader_skips_confirmation(client, settings):
    settings.COMMENTS_XTD_CONFIRM_EMAIL = True
    user = make_user(username="grace", first_name="Grace", last_name="Hopper")
    client.force_login(user)
    post = make_post()
    data = form_data(post)
    del data["name"], data["email"]
    client.post(POST_URL, data)
    comment = Comment.objects.get()
    assert comment.state == Comment.State.PUBLIC
    assert comment.user == user
    assert (comment.user_name, comment.user_email) == ("Grace Hopper", user.email)


def test_reply_joins_its_parent_thread(client, no_confirmation):
    post = make_post()
    parent = make_comment(post=post)
    client.post(POST_URL, form_data(post, reply_to=parent.pk, comment="I agree."))
    reply = Comment.objects.get(comment="I agree.")
    assert (reply.parent_id, reply.thread_id, reply.level) == (
        parent.pk,
        parent.pk,
        1,
    )


def test_sending_the_same_comment_twice_saves_it_once(client, no_confirmation):
    post = make_post()
    client.post(POST_URL, form_data(post))
    client.post(POST_URL, form_data(post))
    assert Comment.objects.count() == 1


def csrf_token_of(page: str) -> str:
    return re.search(r'name="csrfmiddlewaretoken" value="(\w+)"', page)[1]


def viewed_form(client: Client, post: Post, **fields) -> dict:
    """The comment form as one page view gave it, with the CSRF token that
    static/js/csrf.js asks for when the reader starts writing."""
    client.get(post.get_absolute_url())
    token = client.get("/csrf-token").json()["token"]
    return {**form_data(post, **fields), "csrfmiddlewaretoken": token}


def test_a_double_click_at_the_rate_limit_is_answered_as_the_first_sending(
    settings, no_confirmation
):
    """The second sending of the same form is not a second comment: it gets
    the first one's answer, not a rate-limit refusal for a comment it saved."""
    settings.INKWELL_COMMENT_RATE_LIMITS = [("ip", 1, 60)]
    client = Client(enforce_csrf_checks=True)
    post = make_post()
    data = viewed_form(client, post)

    first = client.post(POST_URL, data)
    second = client.post(POST_URL, data)

    [comment] = Comment.objects.all()
    assert first.status_code == second.status_code == 302
    assert first["Location"] == second["Location"] == comment.get_absolute_url()


def test_the_same_form_sent_again_with_other_words_is_a_second_comment(
    no_confirmation,
):
    client = Client(enforce_csrf_checks=True)
    post = make_post()
    data = viewed_form(client, post, comment="First thoughts.")

    client.post(POST_URL, data)
    client.post(POST_URL, {**data, "comment": "Second thoughts, after Back."})

    texts = set(Comment.objects.values_list("comment", flat=True))
    assert texts == {"First thoughts.", "Second thoughts, after Back."}


def test_every_view_of_a_cached_post_page_gives_the_form_its_own_one_time_id():
    """The one-time id is the form's CSRF token, which each reader of a
    cached page fetches for themselves: readers never share one, or one
    reader's comment would answer for another's."""
    post = make_post()
    readers = [Client() for _ in range(3)]
    views = [reader.get(post.get_absolute_url()) for reader in readers]
    assert views[-1]["X-Page-Cache"] == "hit"
    tokens = {reader.get("/csrf-token").json()["token"] for reader in readers}
    assert len(tokens) == 3


# Validation: the reader always gets the form back with their text


def assert_form_back(response, message: str, *, status: int = 400) -> str:
    page = response.content.decode()
    assert response.status_code == status
    assert "A thoughtful comment." in page or "Reply text." in page
    assert message in page, page
    assert not Comment.objects.filter(comment__in=["A thoughtful comment."]).exists()
    return page


def test_tampered_form_gives_the_form_back_with_the_text(client):
    post = make_post()
    data = form_data(post, security_hash="0" * 40)
    page = assert_form_back(client.post(POST_URL, data), "changed on its way here")
    assert 'name="security_hash"' in page
    assert Comment.objects.count() == 0


def test_expired_form_gives_a_fresh_form_that_can_be_sent_again(
    client, no_confirmation
):
    post = make_post()
    with mock.patch("time.time", return_value=1_000_000_000):
        old = form_data(post)
    response = client.post(POST_URL, old)
    assert_form_back(response, "This form had expired")
    fresh = response.context["form"]
    resent = {**old, **{k: str(v) for k, v in fresh.initial.items() if k in old}}
    resent.update(
        {name: fresh[name].value() for name in ("timestamp", "security_hash")}
    )
    assert client.post(POST_URL, resent).status_code == 302
    assert Comment.objects.filter(state=Comment.State.PUBLIC).count() == 1


def test_reply_past_max_depth_is_refused_without_a_500_or_a_stray_row(client):
    """Stock xtd raises MaxThreadLevelExceededException (HTTP 500) after saving
    the row, which then shows as a top-level comment."""
    post = make_post()
    with mock.patch.object(xtd_settings, "COMMENTS_XTD_MAX_THREAD_LEVEL", 1):
        top = make_comment(post=post)
        deepest = make_comment(parent=top)
        response = client.post(POST_URL, form_data(post, reply_to=deepest.pk))
    assert_form_back(response, "nested as deep as it can go")
    assert Comment.objects.count() == 2
    # The form comes back as a new comment, so sending it again works.
    assert response.context["form"]["reply_to"].value() == "0"


def test_reply_to_a_comment_on_another_post_is_refused(client):
    """Stock xtd does not check reply_to against the target: the reply would
    join the other post's thread."""
    post, other = make_post(), make_post()
    elsewhere = make_comment(post=other)
    response = client.post(POST_URL, form_data(post, reply_to=elsewhere.pk))
    assert_form_back(response, "not available on this post")
    assert Comment.objects.count() == 1


@pytest.mark.parametrize("state", ["held", "spam", "trash", "unconfirmed"])
def test_reply_to_an_unapproved_comment_is_refused(client, state):
    post = make_post()
    hidden = make_comment(post=post, state=state)
    response = client.post(POST_URL, form_data(post, reply_to=hidden.pk))
    assert_form_back(response, "not available on this post")


def test_comment_on_a_closed_post_is_refused_with_the_text_back(client):
    post = make_post(allow_comments=False)
    assert_form_back(client.post(POST_URL, form_data(post)), "Comments are closed")
    assert Comment.objects.count() == 0


@pytest.mark.parametrize("status", [Post.Status.DRAFT, "scheduled"])
def test_comment_on_an_unpublished_post_is_refused_with_the_text_back(client, status):
    from datetime import timedelta

    from django.utils import timezone

    if status == "scheduled":
        post = make_post(published_at=timezone.now() + timedelta(days=1))
    else:
        post = make_post(status=status)
    page = assert_form_back(
        client.post(POST_URL, form_data(post)), "could not tell which post"
    )
    assert post.title not in page
    assert Comment.objects.count() == 0


def test_a_comment_on_another_authors_draft_tells_a_staff_member_nothing(client):
    draft = make_post(title="Secret plans", status=Post.Status.DRAFT)
    client.force_login(make_user(username="ada", groups=("Authors",)))
    page = assert_form_back(
        client.post(POST_URL, form_data(draft)), "could not tell which post"
    )
    assert "Secret plans" not in page
    assert draft.get_absolute_url() not in page


def test_the_csrf_failure_page_tells_a_staff_member_nothing_of_a_draft():
    draft = make_post(title="Secret plans", status=Post.Status.DRAFT)
    client = Client(enforce_csrf_checks=True)
    client.force_login(make_user(username="ada", groups=("Authors",)))
    response = client.post(POST_URL, form_data(draft))
    assert response.status_code == 403
    assert "Secret plans" not in response.content.decode()


def test_garbage_post_data_gets_a_page_not_a_500(client):
    response = client.post(POST_URL, {"comment": "A thoughtful comment."})
    assert_form_back(response, "could not tell which post")
    assert client.get(POST_URL).status_code == 405


TOO_BIG = "9" * 25  # past any database's integer range


@pytest.mark.parametrize(
    "path",
    [
        f"/comments/{TOO_BIG}/",
        f"/comments/reply/{TOO_BIG}/",
        f"/comments/feed/{TOO_BIG}/",
        f"/comments/{2**63}/",  # one past the largest id
        "/comments/0/",
    ],
)
def test_an_id_no_comment_can_have_is_a_404(client, path):
    assert client.get(path).status_code == 404


@pytest.mark.parametrize(
    "path", [f"/comments/{TOO_BIG}/like/", f"/posts/{TOO_BIG}/like/"]
)
def test_liking_an_id_no_row_can_have_is_a_404(client, path):
    assert client.post(path).status_code == 404


def test_a_reply_to_an_id_past_the_integer_range_gets_the_form_back(client):
    post = make_post()
    response = client.post(POST_URL, form_data(post, reply_to=TOO_BIG))
    assert_form_back(response, "not available on this post any more")
    assert Comment.objects.count() == 0


def test_the_forms_hidden_inputs_escape_their_values():
    sent = '1"><script>alert(1)</script>'
    form = CommentForm(make_post(), data={"reply_to": sent})
    html = form.hidden_inputs()
    assert "<script>" not in html
    assert (
        '<input type="hidden" name="reply_to" '
        'value="1&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;" id="id_reply_to">'
    ) in html
    assert '<input type="hidden" name="timestamp" id="id_timestamp">' in html


def test_a_post_id_past_the_integer_range_gets_the_form_back(client):
    data = form_data(make_post(), object_pk=TOO_BIG)
    assert_form_back(client.post(POST_URL, data), "could not tell which post")


def test_too_long_comment_gets_a_clear_message(client, settings):
    post = make_post()
    text = "A thoughtful comment." + "x" * 3000
    response = client.post(POST_URL, form_data(post, comment=text))
    page = response.content.decode()
    assert response.status_code == 400
    assert "Comments can be up to 3000 characters long; this one has 3021." in page
    assert text in page
    assert Comment.objects.count() == 0


def test_field_errors_are_tied_to_their_inputs(client):
    post = make_post()
    response = client.post(POST_URL, form_data(post, name="", email="not-an-email"))
    page = assert_form_back(response, "Please give your name.")
    assert 'aria-describedby="id_name_error"' in page
    assert 'id="id_name_error"' in page
    assert 'aria-describedby="id_email_helptext id_email_error"' in page
    assert 'id="id_email_error"' in page
    assert 'aria-invalid="true"' in page


def test_filled_honeypot_sends_the_comment_to_spam(client):
    post = make_post()
    response = client.post(POST_URL, form_data(post, honeypot="buy now"))
    assert response.status_code == 302
    comment = Comment.objects.get()
    assert (comment.state, comment.reason) == (Comment.State.SPAM, "honeypot")


# Threads and the reply page


def test_reply_link_is_not_offered_at_the_maximum_depth(client):
    post = make_post()
    with mock.patch.object(xtd_settings, "COMMENTS_XTD_MAX_THREAD_LEVEL", 1):
        top = make_comment(post=post)
        deepest = make_comment(parent=top)
        page = discussion_html(client.get(post.get_absolute_url()))
        assert client.get(f"/comments/reply/{deepest.pk}/").status_code == 200
        assert (
            "nested as deep"
            in client.get(f"/comments/reply/{deepest.pk}/").content.decode()
        )
    assert f'href="/comments/reply/{top.pk}/"' in page
    assert f'href="/comments/reply/{deepest.pk}/"' not in page


def test_a_rebuilt_thread_shows_each_comment_as_it_is_now(client):
    # Comments' markup is kept across rebuilds of the thread (comments.threads
    # Markup): what it was made from changing must show.
    post = make_post()
    commenter = make_user(first_name="Ada")
    first = make_comment(post=post, user=commenter, body="First.")
    reply = make_comment(parent=first, user=post.author, body="Second.")
    page = discussion_html(client.get(post.get_absolute_url()))
    assert f'id="c{first.pk}-author">Ada<' in page
    mine = page.split(f'id="c{reply.pk}"')[1].split("</footer>")[0]
    assert "comment__badge" in mine

    commenter.first_name = "Grace"
    commenter.save()
    post.author = make_user()
    post.save()
    page = discussion_html(client.get(post.get_absolute_url()))
    assert f'id="c{first.pk}-author">Grace<' in page
    assert "comment__badge" not in page


def test_replies_are_nested_under_their_parent_in_reading_order(client):
    post = make_post()
    first = make_comment(post=post, body="first")
    second = make_comment(post=post, body="second")
    reply = make_comment(parent=first, body="reply to first")
    make_comment(parent=reply, body="deeper")
    page = discussion_html(client.get(post.get_absolute_url()))
    order = [page.index(text) for text in ("first", "reply to first", "deeper")]
    assert order == sorted(order)
    assert page.index("deeper") < page.index("second")
    nested = page[page.index(f'id="c{first.pk}"') : page.index(f'id="c{second.pk}"')]
    assert nested.count('<ol class="comment-list comment-list--replies">') == 2
    assert page.count("<ol") == page.count("</ol>")
    assert page.count("<li") == page.count("</li>")


def test_replies_of_a_hidden_comment_are_hidden_too(client):
    post = make_post()
    top = make_comment(post=post, body="will be held")
    make_comment(parent=top, body="orphaned reply")
    Comment.objects.filter(pk=top.pk).update(state="held")
    page = discussion_html(client.get(post.get_absolute_url()))
    assert "orphaned reply" not in page
    assert "Comments" in page


def test_reply_page_works_without_javascript(client, no_confirmation):
    post = make_post()
    parent = make_comment(post=post, name="Linus", body="Original thought")
    response = client.get(reverse("comments:reply", args=[parent.pk]))
    page = response.content.decode()
    assert response.status_code == 200
    assert "Reply to Linus" in page
    assert "Original thought" in page
    assert f'name="reply_to" value="{parent.pk}"' in page
    form = response.context["form"]
    data = form_data(post, reply_to=parent.pk, comment="Reply text.")
    data.update(timestamp=form["timestamp"].value())
    data.update(security_hash=form["security_hash"].value())
    assert client.post(POST_URL, data).status_code == 302
    assert Comment.objects.get(comment="Reply text.").parent_id == parent.pk


def test_reply_page_of_an_unapproved_comment_is_not_found(client):
    hidden = make_comment(state="held")
    assert client.get(reverse("comments:reply", args=[hidden.pk])).status_code == 404


# Remembering the commenter


def test_details_are_remembered_only_when_asked_and_pages_then_stay_private(
    client, no_confirmation
):
    post = make_post()
    client.post(POST_URL, form_data(post, comment="One."))
    assert "inkwell_commenter" not in client.cookies

    client.post(POST_URL, form_data(post, comment="Two.", remember="on"))
    assert client.cookies["inkwell_commenter"].value
    assert client.cookies["inkwell_commenter"]["httponly"]

    response = client.get(post.get_absolute_url())
    page = response.content.decode()
    assert 'value="Ada Reader"' in page
    assert 'value="ada@example.com"' in page
    assert "private" in response["Cache-Control"]

    client.post(POST_URL, form_data(post, comment="Three."))
    assert client.cookies["inkwell_commenter"].value == ""


def test_the_blank_form_is_shared_but_never_a_reader_s_details(
    client, settings, no_confirmation, django_capture_on_commit_callbacks
):
    """An anonymous reader's blank form comes from a cached fragment; a form
    filled in from the cookie, or for a signed-in reader, never goes into it."""
    settings.INKWELL_PAGE_CACHE = False
    post = make_post()
    grace = make_user(first_name="Grace")
    client.post(POST_URL, form_data(post, comment="Remember me.", remember="on"))
    stranger = Client()
    assert 'name="email"' in stranger.get(post.get_absolute_url()).content.decode()
    assert 'value="Ada Reader"' in client.get(post.get_absolute_url()).content.decode()
    client.force_login(grace)
    assert "Logged in as Grace" in client.get(post.get_absolute_url()).content.decode()

    with mock.patch.object(
        CommentForm,
        "visible_fields",
        autospec=True,
        side_effect=CommentForm.visible_fields,
    ) as visible_fields:
        page = stranger.get(post.get_absolute_url()).content.decode()
    visible_fields.assert_not_called()  # the blank fields came from the cache
    assert 'name="email"' in page
    assert 'value="Ada Reader"' not in page
    assert "Logged in as" not in page
    rules = DiscussionSettings.objects.get()
    rules.require_name_email = False
    with django_capture_on_commit_callbacks(execute=True):
        rules.save()
    page = stranger.get(post.get_absolute_url()).content.decode()
    assert "Optional; not published." in page


def test_page_without_remembered_details_is_not_marked_private(client):
    response = client.get(make_post().get_absolute_url())
    assert "private" not in response.get("Cache-Control", "")


def test_forged_commenter_cookie_is_ignored(client):
    post = make_post()
    client.cookies["inkwell_commenter"] = "not-signed"
    response = client.get(post.get_absolute_url())
    assert response.status_code == 200
    assert 'name="name" autocomplete="name" maxlength="50" required' in (
        response.content.decode()
    )


def test_comment_failing_the_csrf_check_comes_back_with_its_text(
    lenient_moderation,
):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    post = make_post()
    client.get("/csrf-token")  # a cookie, then a token that does not match it
    stale = {**form_data(post), "csrfmiddlewaretoken": "x" * 64}
    response = client.post(POST_URL, stale)
    page = response.content.decode()
    assert response.status_code == 403
    assert "security check for this site had expired" in page
    assert "A thoughtful comment." in page
    assert Comment.objects.count() == 0
    # The page carries a fresh token: sending it again works.
    token = csrf_token_of(page)
    resent = client.post(POST_URL, {**form_data(post), "csrfmiddlewaretoken": token})
    assert resent.status_code == 302
    assert Comment.objects.count() == 1


def test_a_comment_sent_from_a_shared_page_without_javascript_is_sent_in_two_steps(
    lenient_moderation,
):
    """Without csrf.js the form of a cached page has no token: the reader
    gets the form back with their text and a token, and the second press
    saves the comment."""
    client = Client(enforce_csrf_checks=True)
    post = make_post()
    Client().get(post.get_absolute_url())  # someone else fills the cache
    page = client.get(post.get_absolute_url())
    assert page["X-Page-Cache"] == "hit"
    assert 'name="csrfmiddlewaretoken" value=""' in page.text

    first = client.post(POST_URL, {**form_data(post), "csrfmiddlewaretoken": ""})
    assert first.status_code == 403
    assert "press Post Comment again" in first.text
    assert "A thoughtful comment." in first.text
    assert Comment.objects.count() == 0

    data = {**form_data(post), "csrfmiddlewaretoken": csrf_token_of(first.text)}
    assert client.post(POST_URL, data).status_code == 302
    assert Comment.objects.count() == 1


def test_other_csrf_failures_get_djangos_page():
    from django.test import Client

    response = Client(enforce_csrf_checks=True).post("/search/")
    assert response.status_code == 403
    assert "CSRF verification failed" in response.content.decode()


def test_moderators_get_moderation_links_by_the_right_permission(client):
    """xtd's stock tree asks for perms.comments.can_moderate, which nobody
    has: the permission is django_comments.can_moderate."""
    moderator = make_user(groups=("Moderators",))
    assert moderator.has_perm("django_comments.can_moderate")
    assert not moderator.has_perm("comments.can_moderate")
    post = make_post()
    comment = make_comment(post=post)
    admin_link = f'href="/admin/comments/comment/{comment.pk}/change/"'

    assert admin_link not in client.get(post.get_absolute_url()).content.decode()
    client.force_login(make_user())
    assert admin_link not in client.get(post.get_absolute_url()).content.decode()
    client.force_login(moderator)
    assert admin_link in client.get(post.get_absolute_url()).content.decode()


def test_hidden_inputs_are_written_as_django_renders_them(rf):
    post = make_post()
    request = rf.get(post.get_absolute_url())
    for form in (
        CommentForm(post),
        CommentForm(post, data={"reply_to": "7", "name": "Ada"}).refreshed(),
    ):
        html = render_to_string("comments/_form.html", {"form": form}, request)
        for field in form.hidden_fields():
            assert str(field) in html
