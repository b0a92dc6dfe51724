"""Shared UI toolkit: list views, forms base, listing engine, template tags."""
