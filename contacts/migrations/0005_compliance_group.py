from django.contrib.auth.management import create_permissions
from django.db import migrations

# Frozen copy: a migration must not change meaning when contacts/permissions.py changes later.
COMPLIANCE_GROUP = "Compliance"
COMPLIANCE_PERMISSIONS = (
    ("contacts", "view_contact"),
    ("contacts", "erase_contact"),
    ("contacts", "view_erasurerecord"),
    ("contacts", "export_erasurerecord"),
    ("contacts", "view_erasurelogverification"),
    ("webhooks", "view_payloadpurge"),
)


def create_compliance_group(apps, schema_editor):
    # Permissions are normally created after all migrations ran; create them now so the group can hold them.
    for label in ("contacts", "webhooks"):
        app_config = apps.get_app_config(label)
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0, using=schema_editor.connection.alias)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group, _ = Group.objects.get_or_create(name=COMPLIANCE_GROUP)
    permissions = [
        Permission.objects.get(content_type__app_label=app_label, codename=codename)
        for app_label, codename in COMPLIANCE_PERMISSIONS
    ]
    group.permissions.set(permissions)


def remove_compliance_group(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name=COMPLIANCE_GROUP).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("contacts", "0004_erasure_log_guard"),
        ("webhooks", "0003_payload_purge"),
    ]

    operations = [migrations.RunPython(create_compliance_group, remove_compliance_group)]
