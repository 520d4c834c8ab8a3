"""Change versions: what the change feed orders by, so that a client paging through it never
misses a change.

Every syncable row carries ``sync_version``, written by a database trigger on each insert and
update (``sync.triggers``), so no code path can forget it: bulk inserts, ``QuerySet.update``
and raw SQL all bump it.

- PostgreSQL: the 64-bit id of the writing transaction (``pg_current_xact_id()``). Feed
  readers only return rows whose version is below the oldest transaction still running
  (``pg_snapshot_xmin(pg_current_snapshot())``): every transaction below that line has ended,
  and every transaction that ends later has a version at or above it. A transaction that began
  before a client's page and commits after it therefore shows up on a later page, never behind
  the cursor; rows of one transaction are ordered by id.
- SQLite: one writer at a time (the database lock), so a per-table counter taken inside the
  writing transaction is already in commit order.
"""

from django.db import models


class ChangeTracked(models.Model):
    # db_default: bulk loads that bypass the trigger (COPY as replica) and leave the column out
    sync_version = models.BigIntegerField(default=0, db_default=0, editable=False, db_index=False)

    class Meta:
        abstract = True


def version_index(prefix: str) -> models.Index:
    """The feed's index: (workspace, sync_version, id), for every ChangeTracked model."""
    return models.Index(fields=["workspace", "sync_version", "id"], name=f"{prefix}_ws_sync")
