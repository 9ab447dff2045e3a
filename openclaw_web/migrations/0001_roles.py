"""Create one Django group per role, so a fresh install has the roles before anyone signs in."""

from django.db import migrations

ROLE_NAMES = ["admin", "team lead", "approver", "compliance officer", "auditor", "viewer"]


def create_roles(apps, schema_editor):  # type: ignore[no-untyped-def]
    Group = apps.get_model("auth", "Group")
    for name in ROLE_NAMES:
        Group.objects.get_or_create(name=name)


class Migration(migrations.Migration):
    dependencies = [("auth", "0012_alter_user_first_name_max_length")]
    operations = [migrations.RunPython(create_roles, migrations.RunPython.noop)]
