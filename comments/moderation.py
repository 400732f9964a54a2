"""The rules that decide what happens to a new comment, in one place.

`decide()` runs after the form has validated and before anything is saved. It
either returns the state the comment starts in, with the rule that chose it
as the reason moderators see, or raises `Refused` with a message for the
reader (the form comes back with their text).

The rules themselves are `evaluate()`, a pure function of what the reader
sent, what we know about them and the discussion settings, so that each rule
is tested on its own. `decide()` gathers those facts (one query for bans, one
for "has this address an approved comment"), applies the cache-backed rate
limits, asks the spam filter that learns from moderators
(comments/spamfilter.py) and, when AKISMET_API_KEY is set, asks Akismet.

What each trap does, and why:
- closed post: refused, with a message (nothing to moderate).
- rate limited: refused, with the form back and the text kept. Holding would
  fill the queue and mail every moderator once per comment of a flood.
- banned, honeypot, disallowed word, the spam filter sure it is spam,
  Akismet "spam": spam (kept, not shown, so a moderator can rescue a false
  positive; the bot learns nothing).
- too fast, moderation word, N links, the spam filter unsure or failing,
  first-time commenter, hold-all, and Akismet unreachable: held for a
  moderator; never lost.
- the spam filter sure it is not spam: lets a first-time commenter through,
  only under the hold policy "unless the spam filter trusts them", and only
  once every other rule has let the comment pass.
"""

from __future__ import annotations

import ipaddress
import logging
import re
import time
from dataclasses import dataclass, field, replace
from datetime import timedelta

from django.conf import settings
from django.db.models import Q, Value
from django.db.models.functions import Lower
from django.http import HttpRequest
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _
from django_comments.models import Comment as BaseComment

from blog.models import Post
from blog.ratelimit import within_limit
from comments import spamfilter
from comments.models import Ban, Comment, DiscussionSettings, ModerationLog

logger = logging.getLogger(__name__)

State = Comment.State


class Refused(Exception):
    """A rule refused the comment outright; the message is shown to the reader."""


@dataclass(frozen=True)
class Decision:
    state: str
    reason: str = ""
    # The spam filter's verdict, kept with the saved comment (the view).
    verdict: spamfilter.Verdict | None = field(default=None, compare=False)


def discussion() -> DiscussionSettings:
    return DiscussionSettings.current()


def confirmation_required() -> bool:
    """Whether anonymous commenters confirm their address by email first.

    Read from Django's settings on each call (django-comments-xtd reads its
    copy once at import, which tests cannot change).
    """
    return getattr(settings, "COMMENTS_XTD_CONFIRM_EMAIL", True)


def comments_open(post: Post, rules: DiscussionSettings | None = None) -> bool:
    """Whether readers may comment on `post`: the one test used everywhere.

    The post's own switch (and being public), then the site-wide "close
    comments on posts older than N days".
    """
    if not post.comments_open():
        return False
    rules = rules or discussion()
    if rules.close_after_days and post.published_at is not None:
        return post.published_at >= timezone.now() - timedelta(
            days=rules.close_after_days
        )
    return True


# The rules, as a pure function


@dataclass(frozen=True)
class Submission:
    """What the reader sent, and what we know about them."""

    name: str = ""
    email: str = ""
    url: str = ""
    text: str = ""
    ip_address: str | None = None
    honeypot: str = ""
    seconds_to_post: float | None = None  # since the form was shown
    trusted: bool = False  # a moderator, or the post's author, signed in
    banned: bool = False
    approved_before: bool = False  # this address has an approved comment
    # The spam filter: its score (None until it has learnt enough), or
    # filter_failed when it could not score.
    filter_score: float | None = None
    filter_failed: bool = False
    # False while the filter has learnt too little to send to spam: it holds.
    filter_may_spam: bool = True


LINK = re.compile(r"https?://|\bwww\.", re.IGNORECASE)


def count_links(text: str) -> int:
    return len(LINK.findall(text))


def find_word(words: list[str], submission: Submission) -> str | None:
    """The first listed word or phrase found in the comment, name, email,
    website or IP, as a whole word (so "ass" does not match "class")."""
    haystack = "\n".join(
        [
            submission.text,
            submission.name,
            submission.email,
            submission.url,
            submission.ip_address or "",
        ]
    ).lower()
    for word in words:
        if re.search(rf"(?<!\w){re.escape(word)}(?!\w)", haystack):
            return word
    return None


def evaluate(submission: Submission, rules: DiscussionSettings) -> Decision:
    """The state a new comment starts in, and the rule that chose it.

    Spam rules come before hold rules, so that the strongest verdict wins.
    """
    if submission.trusted:
        return Decision(State.PUBLIC)
    if submission.banned:
        return Decision(State.SPAM, "banned")
    if submission.honeypot.strip():
        return Decision(State.SPAM, "honeypot")
    word = find_word(DiscussionSettings.word_list(rules.disallowed_words), submission)
    if word:
        return Decision(State.SPAM, f"disallowed word: {word}")
    score = submission.filter_score
    filter_says_spam = score is not None and score >= spamfilter.spam_cutoff()
    if filter_says_spam and submission.filter_may_spam:
        return Decision(State.SPAM, f"filter: {spamfilter.shown(score)}")
    minimum = settings.INKWELL_COMMENT_MIN_SECONDS
    if submission.seconds_to_post is not None and submission.seconds_to_post < minimum:
        return Decision(State.HELD, "too fast")
    word = find_word(DiscussionSettings.word_list(rules.moderation_words), submission)
    if word:
        return Decision(State.HELD, f"moderation word: {word}")
    links = count_links(submission.text)
    if rules.hold_links and links >= rules.hold_links:
        return Decision(State.HELD, f"{links} links")
    if submission.filter_failed:
        return Decision(State.HELD, "filter error")
    trusted_by_filter = score is not None and score <= spamfilter.ham_cutoff()
    if filter_says_spam:
        return Decision(
            State.HELD, f"filter, still learning: {spamfilter.shown(score)}"
        )
    if score is not None and not trusted_by_filter:
        return Decision(State.HELD, f"filter unsure: {spamfilter.shown(score)}")
    policy = DiscussionSettings.HoldPolicy
    if rules.hold_policy == policy.ALWAYS:
        return Decision(State.HELD, "all comments are held")
    first_time = not submission.approved_before
    if rules.hold_policy == policy.FIRST_TIME and first_time:
        return Decision(State.HELD, "first-time commenter")
    if rules.hold_policy == policy.FILTER and first_time and not trusted_by_filter:
        return Decision(State.HELD, "first-time commenter")
    return Decision(State.PUBLIC)


# Facts from the database and the request


def is_trusted(user, post: Post) -> bool:
    """Signed-in people whose comments need no moderation."""
    if not user.is_authenticated or not user.is_active:
        return False
    return user.pk == post.author_id or can_moderate_all(user)


def can_moderate_all(user) -> bool:
    return user.is_superuser or user.has_perm("django_comments.can_moderate")


def is_banned(email: str, ip_address: str | None) -> bool:
    return Ban.objects.matching(email, ip_address).exists()


def has_approved_comment(email: str) -> bool:
    """Whether an approved comment came from `email` (any case): its
    comments looked up by the index on LOWER(user_email) (comments/0015),
    then by id. Filtered on the address and the state at once, SQLite took
    the index on the state and read every approved comment on the site."""
    if not email:
        return False
    same_address = (
        BaseComment.objects.alias(address=Lower("user_email"))
        .filter(address=Lower(Value(email.strip())))
        .values("pk")
    )
    return Comment.objects.filter(pk__in=same_address, state=State.PUBLIC).exists()


def seconds_since_form(request: HttpRequest) -> float | None:
    """How long the reader had the form: from its signed timestamp.

    Only called after the form validated, so the timestamp's security hash
    has been checked and the value is ours.
    """
    try:
        shown_at = int(request.POST.get("timestamp", ""))
    except ValueError:
        return None
    return time.time() - shown_at


# Rate limits, in the shared cache (every process sees the same counts)


def rate_limited(email: str, ip_address: str | None) -> bool:
    """Whether one more comment from this address or IP is one too many.

    Without the cache, the comments saved in the window are counted instead
    (one query per window): a Redis outage does not lift the limits.
    """
    limited = False
    for scope, limit, window in settings.INKWELL_COMMENT_RATE_LIMITS:
        value = ip_address if scope == "ip" else email
        if not value:
            continue
        sender = Q(ip_address=value) if scope == "ip" else Q(user_email__iexact=value)

        def saved_since(start, sender=sender) -> int:
            # This comment is not saved yet: it is the one more.
            return Comment.objects.filter(sender, submit_date__gte=start).count() + 1

        # Every window is counted, even past the first one that is full.
        if not within_limit(
            f"comment:{scope}", value, limit, window, fallback=saved_since
        ):
            limited = True
    return limited


# Akismet (only when AKISMET_API_KEY is set)


class AkismetUnavailable(Exception):
    pass


def akismet_http_client():
    """The HTTP client Akismet calls go through (tests swap in a fake one)."""
    import httpx

    return httpx.Client(timeout=settings.AKISMET_TIMEOUT)


def akismet_says_spam(comment: Comment, post: Post, request: HttpRequest) -> bool:
    import akismet

    config = akismet.Config(key=settings.AKISMET_API_KEY, url=settings.SITE_URL)
    try:
        with akismet_http_client() as http_client:
            client = akismet.SyncClient(config=config, http_client=http_client)
            verdict = client.comment_check(
                user_ip=comment.ip_address or "",
                user_agent=request.headers.get("user-agent", ""),
                referrer=request.headers.get("referer", ""),
                permalink=f"{settings.SITE_URL}{post.get_absolute_url()}",
                comment_type="reply" if comment.parent_id else "comment",
                comment_author=comment.user_name,
                comment_author_email=comment.user_email,
                comment_author_url=comment.user_url,
                comment_content=comment.comment,
                blog_lang=settings.LANGUAGE_CODE,
            )
    except Exception as error:  # network, HTTP status, bad answer: all the same
        logger.warning("Akismet check failed: %s", error)
        raise AkismetUnavailable from error
    return bool(verdict)


# The decision


def decide(comment: Comment, *, post: Post, request: HttpRequest) -> Decision:
    rules = discussion()
    if not comments_open(post, rules):
        raise Refused(_("Comments are closed on this post."))
    user = request.user
    trusted = is_trusted(user, post)
    if not trusted and rate_limited(comment.user_email, comment.ip_address):
        raise Refused(
            _(
                "You have sent several comments in a short time, so this one was "
                "not saved. Please wait a few minutes and send it again; your text "
                "is below."
            )
        )
    submission = Submission(
        name=comment.user_name,
        email=comment.user_email,
        url=comment.user_url,
        text=comment.comment,
        ip_address=comment.ip_address,
        honeypot=request.POST.get("honeypot", ""),
        seconds_to_post=seconds_since_form(request),
        trusted=trusted,
        banned=not trusted and is_banned(comment.user_email, comment.ip_address),
        approved_before=not trusted and has_approved_comment(comment.user_email),
    )
    verdict = None
    if not trusted:
        verdict = spamfilter.check(
            spamfilter.facts_of(comment, submission.seconds_to_post)
        )
        submission = replace(
            submission,
            filter_score=verdict.score,
            filter_failed=verdict.failed,
            filter_may_spam=verdict.may_spam,
        )
    decision = replace(evaluate(submission, rules), verdict=verdict)
    # Akismet after the local filter, and only if it did not say spam.
    if decision.state != State.SPAM and not trusted and settings.AKISMET_API_KEY:
        try:
            if akismet_says_spam(comment, post, request):
                decision = replace(decision, state=State.SPAM, reason="Akismet")
        except AkismetUnavailable:
            if decision.state == State.PUBLIC:
                decision = replace(
                    decision, state=State.HELD, reason="Akismet unavailable"
                )
    if (
        decision.state != State.SPAM
        and not user.is_authenticated
        and confirmation_required()
    ):
        # The hold reason waits with the comment: confirming the address
        # does not skip moderation (state_after_confirmation).
        return replace(decision, state=State.UNCONFIRMED)
    return decision


def review_edit(comment: Comment, *, post: Post, request: HttpRequest) -> Decision:
    """Where a comment goes once its author has changed its text.

    The rules of a new comment run on the new text (not the rate limits,
    the timestamp or the honeypot: those judge the sending of a form). An
    approved comment that a rule would now hold goes back to the queue with
    that rule as its reason, one a rule calls spam goes to spam; a held or
    unconfirmed comment stays where it is, with the new reason if any.
    """
    rules = discussion()
    trusted = is_trusted(request.user, post)
    submission = Submission(
        name=comment.user_name,
        email=comment.user_email,
        url=comment.user_url,
        text=comment.comment,
        ip_address=comment.ip_address,
        trusted=trusted,
        banned=not trusted and is_banned(comment.user_email, comment.ip_address),
        approved_before=not trusted and has_approved_comment(comment.user_email),
    )
    if not trusted:
        verdict = spamfilter.check(spamfilter.facts_of(comment, None))
        submission = replace(
            submission,
            filter_score=verdict.score,
            filter_failed=verdict.failed,
            filter_may_spam=verdict.may_spam,
        )
    decision = evaluate(submission, rules)
    if decision.state != State.SPAM and not trusted and settings.AKISMET_API_KEY:
        try:
            if akismet_says_spam(comment, post, request):
                decision = Decision(State.SPAM, "Akismet")
        except AkismetUnavailable:
            if decision.state == State.PUBLIC:
                decision = Decision(State.HELD, "Akismet unavailable")
    if decision.state == State.SPAM:
        return Decision(State.SPAM, f"edited: {decision.reason}")
    if comment.state == State.PUBLIC:
        if decision.state == State.HELD:
            return Decision(State.HELD, f"edited: {decision.reason}")
        return Decision(State.PUBLIC)
    # Held or awaiting confirmation: it stays, and the hold reason waits
    # with it (state_after_confirmation).
    return Decision(comment.state, decision.reason or comment.reason)


def state_after_confirmation(comment: Comment) -> Decision:
    """Where a comment goes once its author has proved their address."""
    if is_banned(comment.user_email, comment.ip_address):
        return Decision(State.SPAM, "banned")
    if comment.reason:
        return Decision(State.HELD, comment.reason)
    return Decision(State.PUBLIC)


# Moderators' actions, from the admin or an email link


@dataclass(frozen=True)
class Action:
    name: str
    label: str | Promise  # the button
    question: str | Promise  # the mailed link's page asks it
    state: str | None  # None: back to where the comment was before
    from_states: tuple[str, ...]  # the states it applies to
    reason: str = ""  # stored unless the comment becomes public (in English,
    # shown translated: comments.models.reason_display)


ACTIONS = {
    action.name: action
    for action in [
        Action(
            "approve",
            _("Approve"),
            _("Approve this comment?"),
            State.PUBLIC,
            (State.HELD, State.UNCONFIRMED),
        ),
        Action(
            "unapprove",
            _("Unapprove"),
            _("Unapprove this comment?"),
            State.HELD,
            (State.PUBLIC,),
            "unapproved",
        ),
        Action(
            "spam",
            _("Mark as spam"),
            _("Mark this comment as spam?"),
            State.SPAM,
            (State.PUBLIC, State.HELD, State.UNCONFIRMED, State.TRASH),
            "marked as spam by a moderator",
        ),
        Action(
            "not_spam",
            _("Not spam"),
            _("Mark this comment as not spam?"),
            None,
            (State.SPAM,),
            "not spam",
        ),
        Action(
            "trash",
            _("Move to trash"),
            _("Move this comment to the trash?"),
            State.TRASH,
            (State.PUBLIC, State.HELD, State.UNCONFIRMED, State.SPAM),
            "trashed by a moderator",
        ),
        Action(
            "restore",
            _("Restore"),
            _("Restore this comment?"),
            None,
            (State.TRASH,),
            "restored",
        ),
    ]
}


def previous_state(comment: Comment) -> str:
    """The state before the comment was last moved to spam or the trash."""
    entry = (
        ModerationLog.objects.filter(comment=comment, new_state=comment.state)
        .exclude(old_state__in=["", State.SPAM, State.TRASH])
        .order_by("-created_at", "-pk")
        .first()
    )
    return entry.old_state if entry is not None else State.HELD


def apply_action(
    comment: Comment,
    name: str,
    *,
    by=None,
    via: str = ModerationLog.Via.ADMIN,
    nonce: str | None = None,
) -> bool:
    """Do moderator action `name` on `comment` and log it; False if it does
    not apply to the comment's state. Goes through `set_state`, so the
    signals fire (approval mail, page caches)."""
    action = ACTIONS[name]
    if comment.state not in action.from_states:
        return False
    old_state = comment.state
    new_state = action.state or previous_state(comment)
    reason = "" if new_state == State.PUBLIC else action.reason
    comment.set_state(new_state, reason, by=by)
    log(comment, name, by=by, via=via, old_state=old_state, nonce=nonce)
    spamfilter.learn_from_action(comment, name)
    return True


def log(
    comment: Comment,
    action: str,
    *,
    by=None,
    via: str = ModerationLog.Via.ADMIN,
    old_state: str | None = None,
    new_state: str | None = None,
    nonce: str | None = None,
) -> ModerationLog:
    return ModerationLog.objects.create(
        comment=comment,
        comment_pk=comment.pk,
        action=action,
        old_state=comment.state if old_state is None else old_state,
        new_state=comment.state if new_state is None else new_state,
        user=by if by is not None and by.is_authenticated else None,
        via=via,
        nonce=nonce,
    )


def ban_commenters(
    comments, *, by=None, trash: bool = False, by_ip: bool = False
) -> tuple[int, int]:
    """Ban the authors of `comments` by email, and by IP too with `by_ip`;
    with `trash`, move every comment of theirs that readers could see or
    that waits to the trash.

    By email alone unless asked: an IP is often shared (a proxy, an office,
    a phone network), and banning it silences everyone behind it.

    Returns (bans made, comments trashed).
    """
    pairs = {
        ((email or "").strip().lower(), (ip or None) if by_ip else None)
        for email, ip in comments.values_list("user_email", "ip_address")
    }
    made = 0
    for email, ip in sorted(pairs, key=str):
        if not email and not ip:
            continue
        _ban, created = Ban.objects.get_or_create(
            email=email,
            ip_address=ip,
            defaults={"created_by": by, "note": "banned from the moderation queue"},
        )
        made += created
    trashed = 0
    if trash:
        emails = {email for email, _ip in pairs if email}
        ips = {ip for _email, ip in pairs if ip}
        theirs = Comment.objects.filter(
            Q(user_email__in=emails) | Q(ip_address__in=ips),
            state__in=[State.PUBLIC, State.HELD, State.UNCONFIRMED],
        ).select_related(None)
        for comment in theirs:
            trashed += apply_action(comment, "trash", by=by)
    for comment in comments.select_related(None).prefetch_related(None):
        log(comment, "ban", by=by)
    return made, trashed


# Addresses that stand for a whole network: private ranges (RFC 1918, IPv6
# unique local), carrier-grade NAT (RFC 6598) and link-local ones.
LOCAL_NETWORKS = [
    ipaddress.ip_network(network)
    for network in (
        "10.0.0.0/8",
        "172.16.0.0/12",
        "192.168.0.0/16",
        "100.64.0.0/10",
        "169.254.0.0/16",
        "fc00::/7",
        "fe80::/10",
    )
]


def shared_addresses(ips) -> dict[str, str]:
    """Which of `ips` are likely shared by many people, each with the reason.

    A loopback or private address is one (without TRUSTED_PROXIES, every
    comment that came through a proxy carries the proxy's address), and so
    is one that several email addresses have commented from.
    """
    found = {}
    for ip in sorted({ip for ip in ips if ip}):
        address = ipaddress.ip_address(ip)
        if address.is_loopback or any(address in net for net in LOCAL_NETWORKS):
            found[ip] = (
                gettext(
                    "a local or private address: behind a proxy with "
                    "TRUSTED_PROXIES at 0, every comment comes from it"
                )
                if settings.INKWELL_TRUSTED_PROXIES == 0
                else gettext("a local or private address, shared by a whole network")
            )
            continue
        commenters = (
            Comment.objects.filter(ip_address=ip)
            .exclude(user_email="")
            .values("user_email")
            .distinct()
            .count()
        )
        if commenters > 1:
            found[ip] = ngettext(
                "%(count)d different email addresses have used it",
                "%(count)d different email addresses have used it",
                commenters,
            ) % {"count": commenters}
    return found
