"""A minimal FastAPI service: a health check and an async endpoint that does some work."""
