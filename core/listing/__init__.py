"""One listing engine: pagination, search and fast rendering of every list page."""
