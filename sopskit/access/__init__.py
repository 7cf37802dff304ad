"""Who reads what: the access matrix (files x keys) and its renderers (text, JSON, HTML)."""
