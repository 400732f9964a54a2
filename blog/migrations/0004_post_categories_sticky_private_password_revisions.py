"""Posts as WordPress bloggers know them: other categories besides the primary
one (existing posts keep theirs as the primary), sticky, private and
password-protected posts, and revisions.

On PostgreSQL the search trigger (0003) stops indexing the excerpt and body
of a password-protected post: search shows no body of it, so it must not
find the post by words only its body holds either.
"""

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models

VECTOR = """
    setweight(to_tsvector('english', coalesce({row}title, '')), 'A') ||
    CASE WHEN coalesce({row}password, '') = '' THEN
        setweight(to_tsvector('english', coalesce({row}excerpt, '')), 'B') ||
        setweight(to_tsvector('english', coalesce({row}body, '')), 'C')
    ELSE ''::tsvector END
"""
OLD_VECTOR = """
    setweight(to_tsvector('english', coalesce({row}title, '')), 'A') ||
    setweight(to_tsvector('english', coalesce({row}excerpt, '')), 'B') ||
    setweight(to_tsvector('english', coalesce({row}body, '')), 'C')
"""


def trigger(vector: str) -> list[str]:
    return [
        f"""
        CREATE OR REPLACE FUNCTION blog_post_search_vector_update() RETURNS trigger
        AS $$
        BEGIN
            NEW.search_vector := {vector.format(row="NEW.")};
            RETURN NEW;
        END
        $$ LANGUAGE plpgsql
        """,
        f"UPDATE blog_post SET search_vector = {vector.format(row='')}",
    ]


def on_postgresql(statements: list[str]):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            for statement in statements:
                schema_editor.execute(statement)

    return run


class Migration(migrations.Migration):
    dependencies = [
        ("blog", "0003_post_search_vector"),
        ("contenttypes", "0002_remove_content_type_name"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="post",
            name="categories",
            field=models.ManyToManyField(
                blank=True,
                help_text="The post is also listed on these categories' pages (and their parents'); its address and breadcrumb stay with the primary category.",
                related_name="also_listed_posts",
                to="blog.category",
                verbose_name="other categories",
            ),
        ),
        migrations.AddField(
            model_name="post",
            name="password",
            field=models.CharField(
                blank=True,
                help_text="Readers must type this password to read the post and its comments; the title stays visible. Empty: anyone can read it.",
                max_length=255,
            ),
        ),
        migrations.AddField(
            model_name="post",
            name="sticky",
            field=models.BooleanField(
                default=False,
                help_text="Pinned at the top of the home page's first page.",
            ),
        ),
        migrations.AlterField(
            model_name="post",
            name="category",
            field=models.ForeignKey(
                blank=True,
                help_text="Where the post is filed: its breadcrumb, its “in …” line and its related posts follow this category.",
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="posts",
                to="blog.category",
                verbose_name="primary category",
            ),
        ),
        migrations.AlterField(
            model_name="post",
            name="status",
            field=models.CharField(
                choices=[
                    ("draft", "Draft"),
                    ("published", "Published"),
                    ("private", "Private"),
                ],
                default="draft",
                help_text="Drafts are visible only to staff. Private posts are published for staff who may edit them and for no one else.",
                max_length=10,
            ),
        ),
        migrations.CreateModel(
            name="Revision",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True,
                        primary_key=True,
                        serialize=False,
                        verbose_name="ID",
                    ),
                ),
                ("object_id", models.PositiveBigIntegerField()),
                ("title", models.CharField(max_length=200)),
                ("body", models.TextField(blank=True)),
                ("excerpt", models.TextField(blank=True)),
                (
                    "created_at",
                    models.DateTimeField(
                        default=django.utils.timezone.now, verbose_name="saved at"
                    ),
                ),
                (
                    "content_type",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        to="contenttypes.contenttype",
                    ),
                ),
                (
                    "user",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="saved by",
                    ),
                ),
            ],
            options={
                "ordering": ["-created_at", "-pk"],
                "indexes": [
                    models.Index(
                        fields=["content_type", "object_id", "created_at"],
                        name="blog_revisi_content_410427_idx",
                    )
                ],
            },
        ),
        migrations.RunPython(
            on_postgresql(trigger(VECTOR)), on_postgresql(trigger(OLD_VECTOR))
        ),
    ]
