"""The app's PostgreSQL engine (``ENGINE = "config.db.postgresql"``): Django's, with a health check that
costs no round trip while the connection is fine (``base.py``)."""
