"""The Moderators group: comments only, nothing on posts."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

GRANTS = [
    ("comments", ["add_comment", "change_comment", "delete_comment", "view_comment"]),
    ("django_comments", ["can_moderate", "change_comment", "view_comment"]),
    ("django_comments_xtd", ["change_xtdcomment", "view_xtdcomment"]),
]


def create_group(apps, schema_editor):
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group, _ = Group.objects.get_or_create(name="Moderators")
    for app_label, codenames in GRANTS:
        group.permissions.add(
            *Permission.objects.filter(
                content_type__app_label=app_label, codename__in=codenames
            )
        )


def remove_group(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name="Moderators").delete()


class Migration(migrations.Migration):
    dependencies = [
        ("comments", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("django_comments", "0004_add_object_pk_is_removed_index"),
    ]

    operations = [migrations.RunPython(create_group, remove_group)]
