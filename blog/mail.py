"""Sending email: the `send_email` task and the templated messages queued
for it, in the site's language, wherever they are written from.

Mail is never sent inside a request: views and signal receivers enqueue
`send_email`, and the worker (`python manage.py db_worker`) sends it. The
tasks API has no retry of its own, so a send that fails for a passing reason
(mail server down, network) enqueues itself again for later, a bounded
number of times. Every failed attempt raises, so its task result is FAILED
with the traceback in the admin ("Task results"): `RetryScheduled`, caused
by the mail server's error, when another attempt is queued (which /healthz
does not count as a failure), the error itself after the last attempt.

The blog mails its subscribers (blog/subscriptions/) and the comments app
its readers and moderators through the same task.
"""

import smtplib
from datetime import timedelta

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.functional import Promise
from django_tasks import task

from blog import locale
from blog.worker import RetryScheduled

# Waits before attempts 2..6: about 21 hours from the first try to the last.
RETRY_DELAYS = (
    timedelta(minutes=2),
    timedelta(minutes=15),
    timedelta(hours=1),
    timedelta(hours=4),
    timedelta(hours=16),
)
MAX_ATTEMPTS = len(RETRY_DELAYS) + 1


def is_permanent(error: OSError) -> bool:
    """A 5xx answer from the SMTP server: trying again would not help."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _message in error.recipients.values()]
        return bool(codes) and all(code >= 500 for code in codes)
    return isinstance(error, smtplib.SMTPResponseException) and error.smtp_code >= 500


def message(
    *,
    to: list[str],
    subject: str,
    text: str,
    html: str,
    headers: dict[str, str] | None = None,
    connection=None,
) -> EmailMultiAlternatives:
    """One message with a text and an HTML body, from the site's address."""
    mail = EmailMultiAlternatives(
        subject=" ".join(subject.split()),  # a newline in a subject is refused
        body=text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=to,
        headers=headers or {},
        connection=connection,
    )
    mail.attach_alternative(html, "text/html")
    return mail


@task()
def send_email(
    *,
    to: list[str],
    subject: str,
    text: str,
    html: str,
    headers: dict[str, str] | None = None,
    attempt: int = 1,
) -> str:
    """Send one message with a text and an HTML body; retry later on failure.

    Returns "sent"; raises when the send failed, `RetryScheduled` if it is
    tried again later.
    """
    try:
        message(to=to, subject=subject, text=text, html=html, headers=headers).send()
    except OSError as error:  # smtplib.SMTPException is an OSError
        last_try = attempt >= MAX_ATTEMPTS or is_permanent(error)
        if last_try or not send_email.get_backend().supports_defer:
            raise
        run_after = timezone.now() + RETRY_DELAYS[attempt - 1]
        retry = send_email.using(run_after=run_after).enqueue(
            to=to,
            subject=subject,
            text=text,
            html=html,
            headers=headers,
            attempt=attempt + 1,
        )
        raise RetryScheduled(
            f"Sending {subject!r} failed ({error.__class__.__name__}: {error}); "
            f"attempt {attempt + 1} of {MAX_ATTEMPTS} is queued for "
            f"{run_after.isoformat()} (task {retry.id})"
        ) from error
    return "sent"


def render(
    *, subject: str | Promise, template: str, context: dict
) -> tuple[str, str, str]:
    """The subject, text and HTML of templates/emails/<template>.txt and
    .html, in the site's language and time zone."""
    from blog.models import SiteIdentity

    with locale.site_locale():
        subject = str(subject)
        context = {
            "SITE_NAME": SiteIdentity.current().title,
            "SITE_URL": settings.SITE_URL,
            "subject": subject,
            **context,
        }
        text = render_to_string(f"emails/{template}.txt", context)
        html = render_to_string(f"emails/{template}.html", context)
    return subject, text, html


def send_templated_mail(
    *,
    to: str,
    subject: str | Promise,
    template: str,
    context: dict,
    headers: dict[str, str] | None = None,
) -> None:
    """Render templates/emails/<template>.txt and .html and queue the message,
    subject and body in the site's language and time zone, wherever it is
    sent from (a request, the admin, a management command)."""
    subject, text, html = render(subject=subject, template=template, context=context)
    send_email.enqueue(
        to=[to],
        subject=subject,
        text=text,
        html=html,
        headers={"Auto-Submitted": "auto-generated", **(headers or {})},
    )
