"""Report formats: one module per format, each `render(result) -> str`."""
