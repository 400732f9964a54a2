"""URLs of the comments app; the project mounts them under /comments/."""

from django.urls import path

from comments import mail_views

urlpatterns = [
    path("confirm/<str:token>/", mail_views.confirm_comment, name="comments-confirm"),
    path(
        "unsubscribe/<str:token>/",
        mail_views.unsubscribe,
        name="comments-unsubscribe",
    ),
]
