"""Operator command line: `python -m app.cli --help`.

The logic lives in `app.operations`; these modules parse arguments, open the store and draw
tables.
"""
