"""URLs of the comments app (namespace `comments`): posting, permalinks,
feeds, the links mailed to readers and moderators, likes."""

from django.urls import path

import blog.converters  # noqa: F401  (registers the id converters)
from comments import edit_views, feeds, likes, mail_views, views

app_name = "comments"
urlpatterns = [
    path("comments/post/", views.post_comment, name="post"),
    path("comments/reply/<id:comment_id>/", views.reply, name="reply"),
    path("comments/feed/<id:post_id>/", feeds.PostCommentsFeed(), name="feed"),
    path("comments/<id:comment_id>/", views.permalink, name="permalink"),
    path("comments/mine/", edit_views.mine, name="mine"),
    path("comments/<id:comment_id>/edit/", edit_views.edit_comment, name="edit"),
    path(
        "comments/<id:comment_id>/delete/",
        edit_views.delete_comment,
        name="delete",
    ),
    path("comments/confirm/<str:token>/", mail_views.confirm_comment, name="confirm"),
    path("comments/moderate/<str:token>/", mail_views.moderate, name="moderate"),
    path(
        "comments/unsubscribe/<str:token>/",
        mail_views.unsubscribe,
        name="unsubscribe",
    ),
    path("comments/<id:comment_id>/like/", likes.like_comment, name="like_comment"),
    path("posts/<id:pk>/like/", likes.like_post, name="like_post"),
    path("pages/<id:pk>/like/", likes.like_page, name="like_page"),
]
