"""URLs of the comments app; the project mounts them under /comments/."""

from django.urls import path

from comments import feeds, mail_views, views

urlpatterns = [
    path("post/", views.post_comment, name="comments-post"),
    path("reply/<int:comment_id>/", views.reply, name="comments-reply"),
    path("feed/<int:post_id>/", feeds.PostCommentsFeed(), name="comments-feed"),
    path("<int:comment_id>/", views.permalink, name="comments-permalink"),
    path("confirm/<str:token>/", mail_views.confirm_comment, name="comments-confirm"),
    path("moderate/<str:token>/", mail_views.moderate, name="comments-moderate"),
    path(
        "unsubscribe/<str:token>/",
        mail_views.unsubscribe,
        name="comments-unsubscribe",
    ),
]
