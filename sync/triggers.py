"""The database triggers that write ``sync_version`` (see ``sync.versioning``).

Installed by a migration of this app for every ChangeTracked table, per database vendor.
Loads that bypass triggers on purpose (``bench/generate.py`` runs COPY with
``session_replication_role = replica``) write the column themselves.
"""

PG_FUNCTION = """
CREATE OR REPLACE FUNCTION sync_set_version() RETURNS trigger AS $$
BEGIN
    NEW.sync_version := pg_current_xact_id()::text::bigint;
    RETURN NEW;
END
$$ LANGUAGE plpgsql;
"""


def _pg_statements(table: str) -> list[str]:
    return [
        f'DROP TRIGGER IF EXISTS "{table}_sync_version" ON "{table}"',
        f'CREATE TRIGGER "{table}_sync_version" BEFORE INSERT OR UPDATE ON "{table}" '
        "FOR EACH ROW EXECUTE FUNCTION sync_set_version()",
    ]


SQLITE_CLOCK = (
    # One counter that only goes up (a row's MAX + 1 would reuse a number after a delete). It is
    # not a Django model, so a test database flush leaves it alone.
    "CREATE TABLE IF NOT EXISTS sync_clock (id INTEGER PRIMARY KEY CHECK (id = 1), value INTEGER NOT NULL)",
    "INSERT OR IGNORE INTO sync_clock (id, value) VALUES (1, 0)",
)


def _sqlite_statements(table: str) -> list[str]:
    # AFTER triggers (SQLite cannot assign NEW in a BEFORE trigger); the inner UPDATE changes
    # sync_version, which the WHEN clause excludes, so it does not fire the trigger again.
    bump = (
        "UPDATE sync_clock SET value = value + 1 WHERE id = 1; "
        f'UPDATE "{table}" SET sync_version = (SELECT value FROM sync_clock WHERE id = 1) WHERE id = NEW.id;'
    )
    return [
        f'DROP TRIGGER IF EXISTS "{table}_sync_version_insert"',
        f'DROP TRIGGER IF EXISTS "{table}_sync_version_update"',
        f'CREATE TRIGGER "{table}_sync_version_insert" AFTER INSERT ON "{table}" BEGIN {bump} END',
        f'CREATE TRIGGER "{table}_sync_version_update" AFTER UPDATE ON "{table}" '
        f"WHEN NEW.sync_version IS OLD.sync_version BEGIN {bump} END",
    ]


def install(schema_editor, tables: list[str]) -> None:
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(PG_FUNCTION)
        statements = [s for table in tables for s in _pg_statements(table)]
    elif vendor == "sqlite":
        statements = [*SQLITE_CLOCK, *(s for table in tables for s in _sqlite_statements(table))]
    else:  # pragma: no cover - the product runs on PostgreSQL and SQLite
        raise NotImplementedError(f"no sync_version trigger for {vendor}")
    for statement in statements:
        schema_editor.execute(statement)


def uninstall(schema_editor, tables: list[str]) -> None:
    vendor = schema_editor.connection.vendor
    for table in tables:
        if vendor == "postgresql":
            schema_editor.execute(f'DROP TRIGGER IF EXISTS "{table}_sync_version" ON "{table}"')
        else:
            schema_editor.execute(f'DROP TRIGGER IF EXISTS "{table}_sync_version_insert"')
            schema_editor.execute(f'DROP TRIGGER IF EXISTS "{table}_sync_version_update"')
