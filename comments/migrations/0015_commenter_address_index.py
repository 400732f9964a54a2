"""An index on django_comments' LOWER(user_email): whether an address has
an approved comment (comments.moderation.has_approved_comment, asked for
every comment posted) is answered by it instead of by reading every
approved comment, on SQLite and PostgreSQL alike."""

from django.db import migrations

INDEX = "comments_address_idx"


class Migration(migrations.Migration):
    dependencies = [
        ("comments", "0014_discussion_index"),
    ]

    operations = [
        migrations.RunSQL(
            f"CREATE INDEX IF NOT EXISTS {INDEX} ON django_comments (LOWER(user_email))",
            f"DROP INDEX IF EXISTS {INDEX}",
        ),
    ]
