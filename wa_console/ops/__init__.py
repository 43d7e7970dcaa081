"""The admin's actions as plain functions `op(ctx, ...)`: verify, sync account, sync templates…

Qt-free: the GUI runs them through `gui/tasks.run_task`, the CLI calls them directly. `ctx`
reports progress and says when to stop (see `ops/context.py`).
"""
