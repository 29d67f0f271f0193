"""crossscale.models."""
