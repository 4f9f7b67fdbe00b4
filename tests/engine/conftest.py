"""Engine tests stand alone: no PostgreSQL, no Redis, no Django database.

The engine (backend/engine) has no Django in it; these tests call it with scripted ports. Any attempt to
reach the database fails loudly (pytest-django blocks it unless a test asks for ``db``), and under pytest the
settings never start the embedded services (backend/config/settings.py, PATCHBAY_NO_EMBEDDED).
"""
