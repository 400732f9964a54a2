"""Password-protected posts: the form a reader types the password into, and
the signed cookie that remembers it.

As in WordPress, the browser remembers the last post password typed (one
cookie, for INKWELL_POST_PASSWORD_SECONDS, 10 days by default), and every
post with that password opens. The cookie holds a keyed hash of the
password, never the password, and is signed, so it cannot be forged from a
guess. Changing a post's password locks out every reader who had the old
one.

Pages that depend on the cookie (a protected post, open or not) are sent
with never-cache headers, so neither the page cache nor any shared HTTP cache
keeps them.
"""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils.crypto import constant_time_compare, salted_hmac
from django.utils.translation import gettext_lazy as _

from blog.models import Post

COOKIE_NAME = "inkwell_postpass"
_SALT = "inkwell.postpass"


def _digest(password: str) -> str:
    return salted_hmac(_SALT, password, algorithm="sha256").hexdigest()


def unlocked(request: HttpRequest, post: Post) -> bool:
    """Whether `request`'s reader may read `post`'s body and comments."""
    if not post.is_protected:
        return True
    remembered = request.get_signed_cookie(
        COOKIE_NAME,
        default=None,
        salt=_SALT,
        max_age=settings.INKWELL_POST_PASSWORD_SECONDS,
    )
    return remembered is not None and constant_time_compare(
        remembered, _digest(post.password)
    )


def remember(response: HttpResponse, password: str) -> None:
    response.set_signed_cookie(
        COOKIE_NAME,
        _digest(password),
        salt=_SALT,
        max_age=settings.INKWELL_POST_PASSWORD_SECONDS,
        secure=settings.SESSION_COOKIE_SECURE,
        httponly=True,
        samesite="Lax",
    )


class PostPasswordForm(forms.Form):
    password = forms.CharField(
        max_length=255,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
        error_messages={"required": _("Type the post's password.")},
    )

    def __init__(self, post: Post, *args, **kwargs) -> None:
        self.post = post
        super().__init__(*args, **kwargs)

    def clean_password(self) -> str:
        password = self.cleaned_data["password"]
        if not constant_time_compare(password, self.post.password):
            raise forms.ValidationError(
                _("That password is not right. Check it and try again.")
            )
        return password
