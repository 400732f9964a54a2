"""An index on django_comments' (content_type_id, object_pk): every query of
one post's discussion (its outline, its page of comments, its counts) looks
comments up by both. django-contrib-comments indexes each column alone, and
SQLite, without statistics, answered by the content type alone: every
comment on every post, read to find one post's (200,000 rows on a blog of
20,000 posts)."""

from django.db import migrations

INDEX = "comments_discussion_idx"


class Migration(migrations.Migration):
    dependencies = [
        ("comments", "0013_spam_filter_record_may_spam"),
        ("django_comments", "0004_add_object_pk_is_removed_index"),
    ]

    operations = [
        migrations.RunSQL(
            f"CREATE INDEX IF NOT EXISTS {INDEX} "
            "ON django_comments (content_type_id, object_pk)",
            f"DROP INDEX IF EXISTS {INDEX}",
        ),
    ]
