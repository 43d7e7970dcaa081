"""The webhook receiver: a WSGI app (GET challenge, signed POSTs into the database) served by
waitress, `wa-console webhook serve`, and the import of a captured delivery as proof.

Submodules import their dependencies lazily; import what you need from them:
`webhook.app` (make_app, account_secrets, ReceiverSecrets), `webhook.server` (ReceiverServer),
`webhook.proof_import` (import_capture, ProofImportError), `webhook.cli` (run).
"""
