"""Generated Qt code (see tools/regen_generated.py); never edit by hand."""
