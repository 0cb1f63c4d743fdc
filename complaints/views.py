"""Pages of the complaint desk (placeholder, filled below)."""
