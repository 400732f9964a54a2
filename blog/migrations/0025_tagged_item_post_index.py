"""On PostgreSQL, an index on taggit's tagged items by content type, post id
as a bigint, and tag. Posts' ids are bigints and taggit's object_id an
integer, so PostgreSQL joins them on object_id::bigint, which the integer
indexes cannot answer: a tag's page hashed every one of the tag's tagged
items (20,000 of them for a tag on every post of a big blog) to show ten
posts. SQLite compares them as they are and needs none."""

from django.db import migrations

INDEX = "blog_taggeditem_by_post_idx"


def create(apps, schema_editor) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {INDEX} ON taggit_taggeditem "
            "(content_type_id, (object_id::bigint), tag_id)"
        )


def drop(apps, schema_editor) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {INDEX}")


class Migration(migrations.Migration):
    dependencies = [
        ("blog", "0024_post_by_author_index"),
        ("taggit", "0006_rename_taggeditem_content_type_object_id_taggit_tagg_content_8fc721_idx"),
    ]

    operations = [migrations.RunPython(create, drop)]
