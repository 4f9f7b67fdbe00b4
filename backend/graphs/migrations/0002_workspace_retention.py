from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('graphs', '0001_initial'),
    ]

    operations = [
        migrations.AddField(
            model_name='workspace',
            name='retention_event_days',
            field=models.PositiveIntegerField(blank=True, help_text="Days a finished run keeps its events and span input/output; empty: the deployment's default", null=True),
        ),
        migrations.AddField(
            model_name='workspace',
            name='retention_run_days',
            field=models.PositiveIntegerField(blank=True, help_text="Days a finished run's row and totals are kept; empty: the default", null=True),
        ),
    ]
