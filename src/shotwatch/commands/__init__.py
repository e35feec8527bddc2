"""CLI sub-commands (thin: parse arguments, call the library, print)."""
