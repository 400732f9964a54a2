"""The Authors and Editors groups (Moderators live in the comments app)."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

ROLES = {
    "Authors": [
        ("blog", "post", ["add", "change", "delete", "view"]),
        ("blog", "category", ["view"]),
        ("taggit", "tag", ["view"]),
    ],
    "Editors": [
        ("blog", "post", ["add", "change", "delete", "view", "edit_others_posts"]),
        ("blog", "category", ["add", "change", "delete", "view"]),
        ("taggit", "tag", ["add", "change", "delete", "view"]),
    ],
}


def codename(action: str, model: str) -> str:
    return action if "_" in action else f"{action}_{model}"


def create_roles(apps, schema_editor):
    # Permissions are normally made after all migrations; roles need them now.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, grants in ROLES.items():
        group, _ = Group.objects.get_or_create(name=name)
        for app_label, model, actions in grants:
            group.permissions.add(
                *Permission.objects.filter(
                    content_type__app_label=app_label,
                    codename__in=[codename(action, model) for action in actions],
                )
            )


def remove_roles(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=ROLES).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("blog", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("taggit", "0006_rename_taggeditem_content_type_object_id_taggit_tagg_content_8fc721_idx"),  # noqa: E501
    ]

    operations = [migrations.RunPython(create_roles, remove_roles)]
