"""crossscale.nulls."""
