"""Drop the run tables' indexes that no query needs, so a run writes fewer index entries (issue 16).

A chain3 run inserts its run row, updates it three times (claimed, ended, hook flagged: each changes an indexed
column, so none can be HOT and each writes an entry in EVERY index of runs_run), inserts 15 events and upserts
8 spans. Dropped here:

- runs_runevent(run_id) and runs_span(run_id): the unique (run_id, seq) and (run_id, span_id) indexes lead with
  run_id and serve every lookup by run (a run's events in order, its spans, the cascade's delete) as well.
- runs_run(workspace_id): run_workspace_created (workspace_id, created_at) leads with it.
- runs_run(trace_id) and its varchar_pattern_ops twin: no query looks a run up by trace id; a random 32-hex key
  was two random btree insertions per row version.
- runs_run(status varchar_pattern_ops): only LIKE on status would use it, and nothing does (the sweeps' equality
  and IN filters use the plain status index, which stays).
- runs_run(created_by_id), (replay_of_id), (release_id): replaced by partial indexes WHERE ... IS NOT NULL, built
  first. Every lookup by these keys is an equality (the SET NULL of a deleted user, run or release, the runs
  search's ?release=), which implies NOT NULL, so the planner uses the partial index; a run without one (most
  runs have no replay_of, a published endpoint's runs no created_by) writes no entry for it.

What stays, and why: the status index (the liveness sweeps; status changes on claim and end, so those updates
cannot be HOT anyway), run_finish_not_notified (the missed-hook sweep; it makes the hook's flag update non-HOT,
but without it the sweep would read every run finished in its window), created_at, graph_id, graph_version_id
(insights by graph and period, the cascades of a deleted graph).

Safe on a live table: DROP INDEX CONCURRENTLY does not block the sink's inserts or the run-row updates while it
waits (a plain DROP INDEX takes an ACCESS EXCLUSIVE lock), so the migration is not atomic (CONCURRENTLY cannot run
in a transaction); each statement is IF EXISTS, so a migration interrupted half-way can be run again. Backwards
builds the indexes again CONCURRENTLY (the same names Django gave them), without blocking writes either. Foreign
keys and unique constraints are untouched: referential integrity and one seq / one span id per run stay.
"""
from django.conf import settings
from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models

# Django's names for the indexes it made from db_index=True (runs 0001), in every database alike.
DROPPED = {
    "runs_runevent_run_id_8bd13aa7": "runs_runevent USING btree (run_id)",
    "runs_span_run_id_d74572e2": "runs_span USING btree (run_id)",
    "runs_run_workspace_id_c1222b68": "runs_run USING btree (workspace_id)",
    "runs_run_trace_id_536130f8": "runs_run USING btree (trace_id)",
    "runs_run_trace_id_536130f8_like": "runs_run USING btree (trace_id varchar_pattern_ops)",
    "runs_run_status_7f93e232_like": "runs_run USING btree (status varchar_pattern_ops)",
    "runs_run_created_by_id_f5dec0c1": "runs_run USING btree (created_by_id)",
    "runs_run_replay_of_id_7b879e88": "runs_run USING btree (replay_of_id)",
    "runs_run_release_id_23c1cd45": "runs_run USING btree (release_id)",
}
# The nullable foreign keys now indexed only where set: (field, model it points to, related_name, blank).
NULLABLE_KEYS = (("created_by", settings.AUTH_USER_MODEL, "+", False), ("replay_of", "runs.run", "replays", True),
                 ("release", "releases.release", "runs", True))


class Migration(migrations.Migration):
    atomic = False  # DROP / CREATE INDEX CONCURRENTLY

    dependencies = [
        ("graphs", "0006_workspace_monthly_spend_cap"),
        ("releases", "0001_releases_and_labels"),
        ("runs", "0011_approvals_and_waiting"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        # The partial indexes first, so a lookup by these keys always has an index.
        *(AddIndexConcurrently(model_name="run", index=models.Index(
            fields=[name], condition=models.Q(**{f"{name}__isnull": False}), name=f"run_{name}"))
          for name, _to, _related, _blank in NULLABLE_KEYS),
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(model_name="run", name="trace_id", field=models.CharField(max_length=32)),
                *(migrations.AlterField(
                    model_name="run", name=name,
                    field=models.ForeignKey(blank=blank, db_index=False, null=True, on_delete=models.deletion.SET_NULL,
                                            related_name=related, to=to))
                  for name, to, related, blank in NULLABLE_KEYS),
                migrations.AlterField(
                    model_name="run", name="workspace",
                    field=models.ForeignKey(db_index=False, on_delete=models.deletion.CASCADE, related_name="runs",
                                            to="graphs.workspace")),
                migrations.AlterField(
                    model_name="runevent", name="run",
                    field=models.ForeignKey(db_index=False, on_delete=models.deletion.CASCADE, related_name="events",
                                            to="runs.run")),
                migrations.AlterField(
                    model_name="span", name="run",
                    field=models.ForeignKey(db_index=False, on_delete=models.deletion.CASCADE, related_name="spans",
                                            to="runs.run")),
            ],
            database_operations=[
                migrations.RunSQL(sql=f"DROP INDEX CONCURRENTLY IF EXISTS {name}",
                                  reverse_sql=f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {name} ON {definition}")
                for name, definition in DROPPED.items()
            ],
        ),
    ]
