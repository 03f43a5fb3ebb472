"""Reports of a comparison: the terminal, JSON, and the formats CI systems and people read."""
