"""Background work of the comments app: sending email.

Mail is never sent inside a request: views and signal receivers enqueue
`send_email`, and the worker (`python manage.py db_worker`) sends it. The
tasks API has no retry of its own, so a send that fails for a passing reason
(mail server down, network) enqueues itself again for later, a bounded
number of times. Every failed attempt raises, so its task result is FAILED
with the traceback in the admin ("Task results"): `RetryScheduled`, caused
by the mail server's error, when another attempt is queued (which /healthz
does not count as a failure), the error itself after the last attempt.
"""

import smtplib
from datetime import timedelta

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.utils import timezone
from django_tasks import task

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
    message = EmailMultiAlternatives(
        subject=" ".join(subject.split()),  # a newline in a subject is refused
        body=text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=to,
        headers=headers or {},
    )
    message.attach_alternative(html, "text/html")
    try:
        message.send()
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
