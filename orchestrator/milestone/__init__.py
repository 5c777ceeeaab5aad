"""milestone."""
