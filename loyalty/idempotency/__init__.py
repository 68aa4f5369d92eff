"""Run a whole API operation once per client key; repeats get the stored response."""
