"""Progressive profiling: one question at a time, only for fields that an active rule reads."""
