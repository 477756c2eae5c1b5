from django.contrib.auth.management import create_permissions
from django.db import migrations

# Frozen copy: a migration must not change meaning when contacts/permissions.py changes later.
COMPLIANCE_GROUP = "Compliance"
TRAIL_PERMISSION = ("contacts", "view_contactaccess")


def grant(apps, schema_editor):
    # Permissions are normally created after all migrations ran; create them now so the group can hold them.
    app_config = apps.get_app_config("contacts")
    app_config.models_module = True
    create_permissions(app_config, apps=apps, verbosity=0, using=schema_editor.connection.alias)
    app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group, _ = Group.objects.get_or_create(name=COMPLIANCE_GROUP)
    app_label, codename = TRAIL_PERMISSION
    group.permissions.add(Permission.objects.get(content_type__app_label=app_label, codename=codename))


def revoke(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    app_label, codename = TRAIL_PERMISSION
    for group in Group.objects.filter(name=COMPLIANCE_GROUP):
        group.permissions.remove(*Permission.objects.filter(content_type__app_label=app_label, codename=codename))


class Migration(migrations.Migration):
    dependencies = [
        ("contacts", "0007_contact_access_trail"),
        ("contacts", "0005_compliance_group"),
    ]

    operations = [migrations.RunPython(grant, revoke)]
