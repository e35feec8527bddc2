"""FastAPI service: JSON API and pages."""
