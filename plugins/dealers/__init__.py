"""Built-in dealer plugins: one module per dealer, each a profile plus small overrides."""
