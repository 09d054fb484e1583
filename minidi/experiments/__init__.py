"""One module per study; the CLI and the scripts in examples/ call these."""
