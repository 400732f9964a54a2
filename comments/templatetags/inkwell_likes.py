"""Likes in templates.

{% post_likes post %}: the post's (or page's) Like button and "3 bloggers
like this".
(Comment likes are part of the thread: comments.threads.)

A tag library, so that blog templates can show likes without the blog app
importing the comments app.
"""

from django import template

from comments import likes, stencils

register = template.Library()


@register.simple_tag(takes_context=True)
def post_likes(context: template.Context, post) -> str:
    """The likes widget of a public post or page; nothing for drafts and
    scheduled ones."""
    if not post.is_public:
        return ""
    return likes.widget(post, context["request"], stencils.csrf_input(context))
