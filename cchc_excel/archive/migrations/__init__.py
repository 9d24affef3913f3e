"""Alembic migrations of the store's schema (run by `cchc db upgrade`, see `archive/schema.py`).

A new revision: change `store.metadata`, add `versions/NNNN_what.py` with `revision = "NNNN"` and
`down_revision` the previous one, then set `store.SCHEMA_HEAD` and `store.KNOWN_REVISIONS`. The test
`test_migrations_build_the_schema_of_the_code` fails until the migrations and `metadata` agree.
"""
