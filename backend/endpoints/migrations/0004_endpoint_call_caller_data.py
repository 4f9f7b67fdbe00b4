"""Copy each run's caller (API key, request id) into its endpoint call record (0003 made the columns).

Its own migration: PostgreSQL refuses the schema changes' deferred index builds in a transaction that has
already written rows (pending trigger events), so the data moves after 0003 has committed.
"""
from django.db import migrations


def _tables(apps):
    call, run, endpoint = (apps.get_model(*name) for name in (("endpoints", "EndpointCall"), ("runs", "Run"),
                                                               ("endpoints", "Endpoint")))
    return call._meta.db_table, run._meta.db_table, endpoint._meta.db_table


def copy_callers_from_runs(apps, schema_editor):
    """Each call record takes its run's API key and request id. Endpoint runs older than the call records
    (endpoints 0002) get one, for their graph's first endpoint; a run whose graph has no endpoint any more
    has no endpoint to record the call against, and keeps neither."""
    calls, runs, endpoints = _tables(apps)
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(f"UPDATE {calls} c SET api_key_id = r.api_key_id, request_id = r.request_id "
                       f"FROM {runs} r WHERE r.id = c.run_id")
        cursor.execute(f"""
            INSERT INTO {calls} (endpoint_id, run_id, created_at, api_key_id, request_id)
            SELECT DISTINCT ON (r.id) e.id, r.id, r.created_at, r.api_key_id, r.request_id
            FROM {runs} r JOIN {endpoints} e ON e.graph_id = r.graph_id
            WHERE (r.api_key_id IS NOT NULL OR r.request_id <> '')
              AND NOT EXISTS (SELECT 1 FROM {calls} c WHERE c.run_id = r.id)
            ORDER BY r.id, e.id""")


def copy_callers_to_runs(apps, schema_editor):
    calls, runs, _ = _tables(apps)
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(f"UPDATE {runs} r SET api_key_id = c.api_key_id, request_id = c.request_id "
                       f"FROM {calls} c WHERE c.run_id = r.id")



class Migration(migrations.Migration):

    dependencies = [
        ('endpoints', '0003_endpoint_call_caller'),
    ]

    operations = [
        migrations.RunPython(copy_callers_from_runs, copy_callers_to_runs),
    ]
