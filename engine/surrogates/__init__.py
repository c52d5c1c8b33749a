"""engine/surrogates."""
