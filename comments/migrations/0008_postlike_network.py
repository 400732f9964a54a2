from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("comments", "0007_comment_moderation_version"),
    ]

    operations = [
        migrations.AddField(
            model_name="postlike",
            name="network",
            field=models.CharField(
                blank=True, default="", editable=False, max_length=50
            ),
        ),
        migrations.AddIndex(
            model_name="postlike",
            index=models.Index(
                fields=["post", "network", "created_at"],
                name="comments_po_post_id_1ee208_idx",
            ),
        ),
    ]
