"""The mail task's old address.

`send_email` is blog/mail.py's now (the blog mails its subscribers with it
too). Tasks queued before the move name `comments.tasks.send_email`, and the
worker imports them by that name: it must keep leading to the same task.
"""

from blog.mail import send_email

__all__ = ["send_email"]
