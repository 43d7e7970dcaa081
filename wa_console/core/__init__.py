"""Pure domain: field schema, validation, credential references. No I/O, no Qt."""
