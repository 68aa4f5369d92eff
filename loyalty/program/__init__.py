"""The published rules program, stored as numbered versions."""
