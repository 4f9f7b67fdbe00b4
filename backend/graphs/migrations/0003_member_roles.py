"""Roles are viewer, editor, admin: every former owner becomes an admin (and back, if unapplied)."""
from __future__ import annotations

from typing import Any

from django.db import migrations, models


def owners_to_admins(apps: Any, schema_editor: Any) -> None:
    apps.get_model("graphs", "Membership").objects.filter(role="owner").update(role="admin")


def admins_to_owners(apps: Any, schema_editor: Any) -> None:
    apps.get_model("graphs", "Membership").objects.filter(role="admin").update(role="owner")


class Migration(migrations.Migration):
    dependencies = [("graphs", "0002_workspace_retention")]

    operations = [
        migrations.AlterField(
            model_name="membership",
            name="role",
            field=models.CharField(choices=[("admin", "Admin"), ("editor", "Editor"), ("viewer", "Viewer")],
                                   default="editor", max_length=10),
        ),
        migrations.RunPython(owners_to_admins, admins_to_owners),
    ]
