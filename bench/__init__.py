"""Benchmarks: `python -m bench`. Each reports a ratio against a ceiling measured in the
same run (so a slow machine slows both sides), or a count, and fails past its budget."""
