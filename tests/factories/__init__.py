"""Builders for test data: one module per resource, shared by every test."""
