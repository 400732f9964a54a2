"""The "Leave a Reply" form: every check runs before anything is saved."""

from __future__ import annotations

import hashlib

from django import forms
from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.validators import MaxValueValidator
from django.http import HttpRequest, QueryDict
from django.utils import timezone
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext_lazy as _
from django_comments_xtd.forms import XtdCommentForm

from blog import pagecache
from blog.converters import MAX_ID, is_plain
from blog.models import Post, display_name
from comments import stencils
from comments.models import (
    Comment,
    DiscussionSettings,
    max_thread_level,
    plain_name,
)

PARENT_UNAVAILABLE = _(
    "The comment you replied to is not available on this post any more. Send "
    "your text again to post it as a new comment."
)

# Hidden fields django_comments signs: a problem there means the form expired
# or was altered, which the reader can only fix by sending it again.
SECURITY_FIELDS = ("content_type", "object_pk", "timestamp", "security_hash")


def comment_field(label=None) -> forms.CharField:
    """The comment's text, as Leave a Reply and the edit form take it."""
    return forms.CharField(
        label=label or _("Comment"),
        max_length=settings.COMMENT_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 8, "cols": 60}),
        error_messages={
            "required": _("Please write your comment."),
            "max_length": _(
                "Comments can be up to %(limit_value)d characters long; this "
                "one has %(show_value)d. Please shorten it."
            ),
        },
    )


class EditForm(forms.Form):
    """A reader's new text for their own comment (comments/editing.py)."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # Built here: COMMENT_MAX_LENGTH is read when the form is, as for
        # Leave a Reply.
        self.fields["comment"] = comment_field(_("Your comment"))


class CommentForm(XtdCommentForm):
    """The reader's comment on one post, optionally a reply to a comment on it.

    Signed-in readers do not give a name and email: their account's are used.
    """

    remember = forms.BooleanField(
        required=False,
        label=_(
            "Save my name, email, and website in this browser for the next time I "
            "comment."
        ),
    )

    subscribe = forms.BooleanField(
        required=False,
        label=_("Email me new posts too (I will confirm by email)."),
    )

    def __init__(
        self,
        target_object: Post,
        data: QueryDict | dict | None = None,
        initial: dict | None = None,
        *,
        user=None,
    ) -> None:
        self.user = user if user is not None and user.is_authenticated else None
        super().__init__(target_object, data=data, initial=initial)
        self.parent: Comment | None = None
        fields = self.fields
        fields["name"] = forms.CharField(
            label=_("Name"),
            max_length=50,
            widget=forms.TextInput(attrs={"autocomplete": "name"}),
        )
        fields["email"] = forms.EmailField(
            label=_("Email"),
            help_text=_("Not published."),
            widget=forms.EmailInput(attrs={"autocomplete": "email"}),
        )
        fields["url"] = forms.URLField(
            label=_("Website"),
            required=False,
            assume_scheme="https",
            widget=forms.URLInput(attrs={"autocomplete": "url"}),
        )
        fields["comment"] = comment_field()
        # A number past the database's range would raise there, not here.
        fields["reply_to"].validators.append(MaxValueValidator(MAX_ID))
        fields["reply_to"].error_messages["max_value"] = PARENT_UNAVAILABLE
        fields["followup"].label = _("Notify me of follow-up comments by email.")
        fields["followup"].widget = forms.CheckboxInput()
        fields["honeypot"].widget = forms.TextInput(
            attrs={"autocomplete": "off", "tabindex": "-1"}
        )
        fields["name"].error_messages["required"] = _("Please give your name.")
        fields["email"].error_messages["required"] = _(
            "Please give your email address; it is not published."
        )
        if not DiscussionSettings.current().require_name_email:
            fields["name"].required = False
            fields["email"].required = False
            fields["email"].help_text = _("Optional; not published.")
        if self.user is not None:
            for name in ("name", "email", "remember"):
                del fields[name]
        self.order_fields(
            ["name", "email", "url", "comment", "followup", "subscribe", "remember"]
        )

    def hidden_inputs(self) -> SafeString:
        """The hidden inputs (the signed security fields, reply_to) as
        Django's HiddenInput writes them, escaped. Its widget templates cost
        a sixth of a warm post page, and the same loop in the template still
        0.2 ms (7%)."""
        inputs = []
        for field in self.hidden_fields():
            value = field.value()
            shown = "" if value is None or value == "" else f' value="{escape(value)}"'
            inputs.append(
                f'<input type="hidden" name="{escape(field.html_name)}"{shown} '
                f'id="{escape(field.auto_id)}">'
            )
        return mark_safe("".join(inputs))

    # Validation

    def clean_reply_to(self) -> int:
        """A reply's parent: an approved comment on this post, not too deep."""
        reply_to = self.cleaned_data["reply_to"]
        if not reply_to:
            return 0
        parent = (
            Comment.objects.approved()
            .for_post(self.target_object)
            .filter(pk=reply_to)
            .first()
        )
        if parent is None:
            raise forms.ValidationError(PARENT_UNAVAILABLE, code="parent_unavailable")
        if parent.level >= max_thread_level():
            raise forms.ValidationError(
                _(
                    "This conversation is nested as deep as it can go. Send your "
                    "text again to post it as a new comment, or reply to an "
                    "earlier one."
                ),
                code="too_deep",
            )
        self.parent = parent
        return reply_to

    def clean_name(self) -> str:
        """The name as it will be shown: control and format characters out
        (line breaks, bidi overrides), so it cannot pose as something else."""
        name = plain_name(self.cleaned_data.get("name", ""))
        if not name and self.fields["name"].required:
            raise forms.ValidationError(
                self.fields["name"].error_messages["required"], code="required"
            )
        return name

    def clean_url(self) -> str:
        url = self.cleaned_data.get("url", "")
        if not is_plain(url):
            raise forms.ValidationError(
                _(
                    "This web address has invisible or control characters in it; "
                    "please type it again."
                ),
                code="invalid",
            )
        return url

    def clean_honeypot(self) -> str:
        """Kept, not refused: a filled honeypot sends the comment to spam
        (comments/moderation.py), so a bot learns nothing from the answer."""
        return self.cleaned_data.get("honeypot", "")

    def submission_key(self) -> str:
        """What tells this form sent again (a double click, a resent POST)
        from a new comment: a digest of its one-time id and what was written.

        The one-time id is the form's CSRF token: Django masks it afresh for
        every page it renders, and the page cache does for every hit, so no
        two page views share one (a random field of our own would be shared
        by every reader of a cached page), and only the reader's own cookie
        makes it valid. Stored digested: the token itself leads to the
        reader's CSRF secret. "" (nothing to compare) without a token.
        """
        token = self.data.get("csrfmiddlewaretoken", "")
        if not token:
            return ""
        data = self.cleaned_data
        parts = [
            token,
            str(self.target_object.pk),
            str(data.get("reply_to") or 0),
            data.get("name", ""),
            data.get("email", ""),
            data.get("url", ""),
            data["comment"],
        ]
        return hashlib.sha256("\0".join(parts).encode()).hexdigest()

    def has_security_errors(self) -> bool:
        return any(name in self.errors for name in SECURITY_FIELDS)

    def refreshed(self) -> CommentForm:
        """The reader's answers in a new form with fresh security fields.

        Used to show the form again: an expired or altered form then works
        when sent again, and a reply to a comment that cannot take one becomes
        a new comment. Nothing the reader wrote is lost.
        """
        data = self.data.copy() if hasattr(self.data, "copy") else dict(self.data)
        data.update(self.generate_security_data())
        if "reply_to" in self.errors:
            data["reply_to"] = "0"
        form = type(self)(self.target_object, data=data, user=self.user)
        for error in [*self.non_field_errors(), *self.errors.get("reply_to", [])]:
            form.add_error(None, error)
        return form

    # Saving

    def build_comment(self, request: HttpRequest) -> Comment:
        """The unsaved comment; the view decides its state and saves it."""
        data = self.cleaned_data
        user = self.user
        # Stored: in the site's language at the time of writing.
        name = data.get("name") or str(_("Anonymous"))
        email = data.get("email", "")
        if user is not None:
            name = display_name(user)
            email = user.email
        target = self.target_object
        comment = Comment(
            content_type=ContentType.objects.get_for_model(target),
            object_pk=str(target.pk),
            site_id=settings.SITE_ID,
            user=user,
            user_name=name,
            user_email=email,
            user_url=data.get("url", ""),
            comment=data["comment"],
            submit_date=timezone.now(),
            ip_address=request.META.get("REMOTE_ADDR") or None,
            parent_id=self.parent.pk if self.parent else 0,
            followup=data["followup"],
            submission_key=self.submission_key(),
        )
        # The post in hand, so that the mail and receivers do not read it again.
        Comment.content_object.set_cached_value(comment, target)
        return comment


def security_data(target: Post) -> dict[str, str]:
    """The signed hidden fields of a new form on `target`, as django_comments
    writes them (CommentSecurityForm.generate_security_data), without
    building the form."""
    signer = CommentForm.__new__(CommentForm)
    signer.target_object = target
    return signer.generate_security_data()


# The signed fields a blank form's stencil leaves to fill in per page.
_SIGNED = ("object_pk", "timestamp", "security_hash")


def _blank_template(target: Post) -> str:
    """comments/_form.html for a blank form on a post of `target`'s model, as
    a stencil of {csrf} and the fields of _SIGNED."""
    form = CommentForm(target)
    form.initial.update({name: stencils.mark(name) for name in _SIGNED})
    return stencils.render("comments/_form.html", {"form": form}, _SIGNED)


def blank_form(target: Post, csrf_input: str) -> SafeString:
    """The "Leave a Reply" form of an anonymous reader with nothing
    remembered: comments/_form.html with a blank CommentForm, the same for
    every such reader but for the signed fields and `csrf_input` (what
    {% csrf_token %} writes). Rendered once per language and site version
    (the form's words, DiscussionSettings' required fields), not per page:
    building the form and writing it was a fifth of a warm post page."""
    label = str(target._meta)
    markup = pagecache.cached(
        "comment-form",
        label,
        pagecache.version(),
        build=lambda: _blank_template(target),
        slot=("comment-form", label),
    )
    signed = security_data(target)
    return mark_safe(
        markup.format(
            object_pk=escape(signed["object_pk"]),
            timestamp=escape(signed["timestamp"]),
            security_hash=escape(signed["security_hash"]),
            csrf=csrf_input,
        )
    )
