"""Settings of the bench's gunicorn: production settings, comment rate limits off.

wrk posts hundreds of comments from one address in seconds; with the limits
on, the bench would measure the refusal page instead of posting a comment.
"""

from blog.settings import *  # noqa: F403

INKWELL_COMMENT_RATE_LIMITS = []
