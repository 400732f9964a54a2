"""Full-text search on PostgreSQL: a stored, weighted vector, a trigger, a GIN index.

The trigger (not Post.save) keeps the vector current, so rows written by
fixtures, imports or queryset.update() are found too. On SQLite the column
stays empty and blog/search.py uses its fallback; the SQL below is skipped.
"""

import django.contrib.postgres.search
from django.db import migrations

# Title weighs most (A), then the excerpt (B), then the body (C).
VECTOR = """
    setweight(to_tsvector('english', coalesce({row}title, '')), 'A') ||
    setweight(to_tsvector('english', coalesce({row}excerpt, '')), 'B') ||
    setweight(to_tsvector('english', coalesce({row}body, '')), 'C')
"""

FORWARD = [
    f"""
    CREATE FUNCTION blog_post_search_vector_update() RETURNS trigger AS $$
    BEGIN
        NEW.search_vector := {VECTOR.format(row="NEW.")};
        RETURN NEW;
    END
    $$ LANGUAGE plpgsql
    """,
    """
    CREATE TRIGGER blog_post_search_vector_trigger
        BEFORE INSERT OR UPDATE ON blog_post
        FOR EACH ROW EXECUTE FUNCTION blog_post_search_vector_update()
    """,
    f"UPDATE blog_post SET search_vector = {VECTOR.format(row='')}",
    "CREATE INDEX blog_post_search_vector_gin ON blog_post USING gin (search_vector)",
]

BACKWARD = [
    "DROP INDEX IF EXISTS blog_post_search_vector_gin",
    "DROP TRIGGER IF EXISTS blog_post_search_vector_trigger ON blog_post",
    "DROP FUNCTION IF EXISTS blog_post_search_vector_update()",
]


def on_postgresql(statements: list[str]):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            for statement in statements:
                schema_editor.execute(statement)

    return run


class Migration(migrations.Migration):

    dependencies = [
        ("blog", "0002_roles"),
    ]

    operations = [
        migrations.AddField(
            model_name="post",
            name="search_vector",
            field=django.contrib.postgres.search.SearchVectorField(
                editable=False, null=True
            ),
        ),
        migrations.RunPython(on_postgresql(FORWARD), on_postgresql(BACKWARD)),
    ]
