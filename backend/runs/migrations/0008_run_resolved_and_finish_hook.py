from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("runs", "0007_run_search_indexes"),
    ]

    operations = [
        # Runs that exist already count as notified (default True while adding), so the sweep does not fire the
        # run-finished hook for history; new runs start unnotified.
        migrations.AddField(
            model_name="run",
            name="finish_notified",
            field=models.BooleanField(default=True),
        ),
        migrations.AlterField(
            model_name="run",
            name="finish_notified",
            field=models.BooleanField(default=False),
        ),
        migrations.AddField(
            model_name="run",
            name="resolved",
            field=models.JSONField(blank=True, default=dict),
        ),
        migrations.AddIndex(
            model_name="run",
            index=models.Index(condition=models.Q(("finish_notified", False)), fields=["finished_at"],
                               name="run_finish_not_notified"),
        ),
    ]
