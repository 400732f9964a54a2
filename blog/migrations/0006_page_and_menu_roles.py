"""Authors write their own pages; Editors manage every page and the menus.
Site identity stays with administrators (superusers)."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

GRANTS = {
    "Authors": ["add_page", "change_page", "delete_page", "view_page"],
    "Editors": [
        "add_page",
        "change_page",
        "delete_page",
        "view_page",
        "edit_others_pages",
        "add_menu",
        "change_menu",
        "delete_menu",
        "view_menu",
        "add_menuitem",
        "change_menuitem",
        "delete_menuitem",
        "view_menuitem",
    ],
}


def grant(apps, schema_editor):
    # Permissions are normally made after all migrations; roles need them now.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, codenames in GRANTS.items():
        group, _ = Group.objects.get_or_create(name=name)
        group.permissions.add(
            *Permission.objects.filter(
                content_type__app_label="blog", codename__in=codenames
            )
        )


def revoke(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, codenames in GRANTS.items():
        for group in Group.objects.filter(name=name):
            group.permissions.remove(
                *Permission.objects.filter(
                    content_type__app_label="blog", codename__in=codenames
                )
            )


class Migration(migrations.Migration):
    dependencies = [("blog", "0005_pages_menus_identity")]

    operations = [migrations.RunPython(grant, revoke)]
