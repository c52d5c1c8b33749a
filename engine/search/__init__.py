"""engine/search."""
