"""Likes in templates.

{% post_likes post %}: the post's (or page's) Like button and "3 bloggers
like this".
(Comment likes are part of the thread: comments.threads.)

A tag library, so that blog templates can show likes without the blog app
importing the comments app.
"""

from django import template

from comments import likes

register = template.Library()


@register.inclusion_tag("comments/_likes.html", takes_context=True)
def post_likes(context: template.Context, post) -> dict:
    """The likes widget of a public post or page; nothing for drafts and
    scheduled ones."""
    if not post.is_public:
        return {"show": False}
    return {
        "show": True,
        "post": post,
        "like_url": likes.like_url(post),
        "likes": likes.like_summary(post, context["request"]),
        "csrf_token": context.get("csrf_token"),
    }
