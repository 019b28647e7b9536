"""Shared code of the patient notification pipeline (the Lambda layer).

`domain` holds the spec's rules as pure functions, `dal` the table, `adapters` every
outside service, `services` the use cases that the handlers call.
"""
