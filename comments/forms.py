from django_comments_xtd.forms import XtdCommentForm


class CommentForm(XtdCommentForm):
    """The "Leave a Reply" form."""
