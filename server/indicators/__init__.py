"""The plan's indicators served from the database: a thin layer over analysis/."""
