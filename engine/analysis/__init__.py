"""engine/analysis."""
