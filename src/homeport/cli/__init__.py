"""The command line: one module per command group. The only place in homeport that prints."""
