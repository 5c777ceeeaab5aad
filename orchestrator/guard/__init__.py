"""Nothing the agent writes runs with the orchestrator's rights.

The agent (and, today, every check) can write the work tree. What the
orchestrator runs with its own rights must come from what a person wrote:

- :mod:`~orchestrator.guard.inputs`: ``.agent/`` (config, hook scripts, plans),
  the config file and the programs it names, as they were when the run started.

See ``docs/security.md``.
"""
