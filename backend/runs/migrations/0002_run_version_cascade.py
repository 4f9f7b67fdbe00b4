import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("graphs", "0001_initial"),
        ("runs", "0001_initial"),
    ]

    operations = [
        migrations.AlterField(
            model_name="run",
            name="graph_version",
            field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="runs",
                                    to="graphs.graphversion"),
        ),
    ]
