"""An index for a post's latest update (the sitemap's latest change) and
one on taggit's tagged items by tag, content type and post."""

from django.conf import settings
from django.db import migrations, models


TAGGED_INDEX = "blog_taggeditem_by_tag_idx"


class Migration(migrations.Migration):

    dependencies = [
        ('blog', '0022_post_sticky_first_index'),
        ('taggit', '0006_rename_taggeditem_content_type_object_id_taggit_tagg_content_8fc721_idx'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        # Posts by tag, newest first (related posts' candidates, a tag's
        # first published post for the sitemap), read from the end of an
        # index on taggit's table: taggit indexes tag_id alone, by which
        # SQLite, without statistics, preferred the content type's.
        migrations.RunSQL(
            f"CREATE INDEX IF NOT EXISTS {TAGGED_INDEX} "
            "ON taggit_taggeditem (tag_id, content_type_id, object_id)",
            f"DROP INDEX IF EXISTS {TAGGED_INDEX}",
        ),
        migrations.AddIndex(
            model_name='post',
            index=models.Index(fields=['status', 'updated_at', 'published_at'], name='blog_post_latest_update_idx'),
        ),
    ]
