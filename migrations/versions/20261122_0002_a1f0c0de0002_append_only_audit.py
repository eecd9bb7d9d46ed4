"""append-only audit and access log: no UPDATE, no DELETE of rows younger than five years

Revision ID: a1f0c0de0002
Revises: 4269616f0b23
Create Date: 2026-11-22
"""

from alembic import op

revision = "a1f0c0de0002"
down_revision = "4269616f0b23"
branch_labels = None
depends_on = None

TABLES = ("audit_event", "access_log", "access_log_patient")


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for table in TABLES:
            op.execute(f"CREATE TRIGGER {table}_append_only BEFORE UPDATE ON {table} BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END")
        for table in ("audit_event", "access_log"):
            op.execute(
                f"CREATE TRIGGER {table}_keep_five_years BEFORE DELETE ON {table} "
                f"WHEN old.at > datetime('now', '-5 years') "
                f"BEGIN SELECT RAISE(ABORT, '{table} rows are kept at least five years'); END"
            )
        op.execute(
            "CREATE TRIGGER access_log_patient_keep_five_years BEFORE DELETE ON access_log_patient "
            "WHEN (SELECT at FROM access_log WHERE id = old.access_log_id) > datetime('now', '-5 years') "
            "BEGIN SELECT RAISE(ABORT, 'access_log_patient rows are kept at least five years'); END"
        )
    elif dialect == "postgresql":
        op.execute(
            "CREATE FUNCTION vardflode_append_only() RETURNS trigger AS $$ "
            "BEGIN RAISE EXCEPTION '% is append-only', TG_TABLE_NAME; END $$ LANGUAGE plpgsql"
        )
        op.execute(
            "CREATE FUNCTION vardflode_keep_five_years() RETURNS trigger AS $$ "
            "DECLARE logged_at timestamptz; BEGIN "
            "IF TG_TABLE_NAME = 'access_log_patient' THEN SELECT at INTO logged_at FROM access_log WHERE id = OLD.access_log_id; "
            "ELSE logged_at := OLD.at; END IF; "
            "IF logged_at > now() - interval '5 years' THEN "
            "RAISE EXCEPTION '% rows are kept at least five years', TG_TABLE_NAME; END IF; "
            "RETURN OLD; END $$ LANGUAGE plpgsql"
        )
        for table in TABLES:
            op.execute(f"CREATE TRIGGER {table}_append_only BEFORE UPDATE ON {table} FOR EACH ROW EXECUTE FUNCTION vardflode_append_only()")
            op.execute(f"CREATE TRIGGER {table}_keep_five_years BEFORE DELETE ON {table} FOR EACH ROW EXECUTE FUNCTION vardflode_keep_five_years()")


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    for table in TABLES:
        op.execute(f"DROP TRIGGER IF EXISTS {table}_append_only" + ("" if dialect == "sqlite" else f" ON {table}"))
        op.execute(f"DROP TRIGGER IF EXISTS {table}_keep_five_years" + ("" if dialect == "sqlite" else f" ON {table}"))
    if dialect == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS vardflode_append_only()")
        op.execute("DROP FUNCTION IF EXISTS vardflode_keep_five_years()")
