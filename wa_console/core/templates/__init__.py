"""Message templates, offline: the draft model, Meta's rules (lint), the preview and the exact
payloads (create-template request and template send). Pure: no I/O, no Qt."""
