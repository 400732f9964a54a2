from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CommentsConfig(AppConfig):
    name = "comments"
    verbose_name = _("Comments")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from blog.wordpress import exporting_items, posts_written
        from comments import notifications, receivers, signals, wordpress

        signals.comment_submitted.connect(
            notifications.on_comment_submitted, dispatch_uid="notify-submitted"
        )
        signals.comment_state_changed.connect(
            notifications.on_comment_state_changed, dispatch_uid="notify-state"
        )
        receivers.connect_signals()
        posts_written.connect(wordpress.write_comments, dispatch_uid="wp-comments")
        exporting_items.connect(
            wordpress.export_comments, dispatch_uid="wp-export-comments"
        )
