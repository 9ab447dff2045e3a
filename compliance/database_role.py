"""The PostgreSQL role the app runs as: every right it needs, and no way to rewrite the audit log.

Migrations run as the owner of the tables; web, workers and beat connect as this role. It may read
and write every table except the audit log and its anchors, where it may only SELECT and INSERT:
no UPDATE, DELETE or TRUNCATE, and (not being the owner, nor a member of the owner's role) no
ALTER TABLE, so it cannot switch the append-only trigger off either. Sequences (identity columns)
and advisory locks, which appending uses, need nothing more.

`grant_app_role` is idempotent: run it after every `migrate` (docker-compose.yml does), so tables a
new migration creates are covered too.
"""

from __future__ import annotations

import re

from django.db import connection
from django.db.backends.utils import CursorWrapper

APPEND_ONLY_TABLES = ("compliance_auditlogentry", "compliance_auditanchor")
_ROLE_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


class RoleRefused(ValueError):
    """The role cannot be made the app's role safely (or the database is not PostgreSQL)."""


def _quote(name: str) -> str:
    return connection.ops.quote_name(name)


def _refuse_powerful_role(cursor: CursorWrapper, role: str) -> None:
    cursor.execute("SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = %s", [role])
    row = cursor.fetchone()
    if row is None:
        raise RoleRefused(f"Role {role!r} does not exist; pass a password to create it.")
    if row[0] or row[1]:
        raise RoleRefused(f"Role {role!r} is a superuser (or bypasses row security): it could rewrite the audit log.")
    cursor.execute("SELECT current_user, pg_has_role(%s, current_user, 'MEMBER')", [role])
    owner, is_member = cursor.fetchone()
    if role == owner or is_member:
        raise RoleRefused(f"Role {role!r} is (a member of) {owner!r}, the tables' owner: it could disable the audit trigger.")


def grant_app_role(*, role: str, password: str | None = None) -> list[str]:
    """Create `role` if a password is given and it is missing (LOGIN, nothing else), then grant.
    Returns the statements run (the password is never in them)."""
    if connection.vendor != "postgresql":
        raise RoleRefused("Database roles apply to PostgreSQL only.")
    if not _ROLE_NAME.match(role):
        raise RoleRefused(f"{role!r} is not a plain lower-case role name.")
    name = _quote(role)
    done: list[str] = []
    with connection.cursor() as cursor:
        if password:
            cursor.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [role])
            verb = "ALTER" if cursor.fetchone() else "CREATE"
            cursor.execute(f"{verb} ROLE {name} WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION "
                           "NOBYPASSRLS PASSWORD %s", [password])
            done.append(f"{verb} ROLE {name} WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS PASSWORD '…'")
        _refuse_powerful_role(cursor, role)
        cursor.execute("SELECT current_database(), current_schema()")
        database, schema = (_quote(value) for value in cursor.fetchone())
        statements = [
            f"GRANT CONNECT ON DATABASE {database} TO {name}",
            f"GRANT USAGE ON SCHEMA {schema} TO {name}",
            f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {schema} TO {name}",
            f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {schema} TO {name}",
            f"ALTER DEFAULT PRIVILEGES IN SCHEMA {schema} GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {name}",
            f"ALTER DEFAULT PRIVILEGES IN SCHEMA {schema} GRANT USAGE, SELECT ON SEQUENCES TO {name}",
        ]
        for table in APPEND_ONLY_TABLES:
            statements += [
                f"REVOKE ALL ON {_quote(table)} FROM {name}",
                f"REVOKE ALL ON {_quote(table)} FROM PUBLIC",
                f"GRANT SELECT, INSERT ON {_quote(table)} TO {name}",
            ]
        for statement in statements:
            cursor.execute(statement)
        done += statements
    return done
