"""Runbooks: the ordered steps of an operation, generated from the objects the commands use.

`rotate.rotate_key_runbook` builds the key-rotation runbook; `render` turns it into text or
JSON. Every sentence that says what a command will do is computed by the same library code
the command runs (`simulate`), never written as parallel prose.
"""
