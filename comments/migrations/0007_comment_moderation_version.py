from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("comments", "0006_comment_markup_wordpress_ids"),
    ]

    operations = [
        migrations.AddField(
            model_name="comment",
            name="moderation_version",
            field=models.PositiveIntegerField(db_default=0, default=0, editable=False),
        ),
    ]
