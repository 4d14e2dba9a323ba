"""Job entry points: what the runner starts as child processes."""
