"""Settings of the bench's gunicorn: production settings, comment rate limits off.

wrk posts hundreds of comments from one address in seconds; with the limits
on, the bench would measure the refusal page instead of posting a comment.
The confirmation mails those comments ask for are limited per address and per
network too (and a refused one now answers 429 with the form), so those
limits are lifted as well.
"""

from blog.settings import *  # noqa: F403

INKWELL_COMMENT_RATE_LIMITS = []
INKWELL_CONFIRMATION_MAILS_PER_ADDRESS = 10**9
INKWELL_CONFIRMATION_MAILS_PER_IP = 10**9
