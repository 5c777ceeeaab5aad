"""Nothing the agent writes runs with the orchestrator's rights.

The agent (and, today, every check) can write the work tree. What the
orchestrator runs with its own rights must come from what a person wrote:

- :mod:`~orchestrator.guard.inputs`: ``.agent/`` (config, hook scripts, plans),
  the config file and the programs it names, as they were when the run started;
- :mod:`~orchestrator.guard.refs`: HEAD, the branch and every other ref, as the
  orchestrator last left them;
- :mod:`~orchestrator.guard.history`: a milestone is done only when the
  orchestrator recorded its commit and HEAD's history has it.

See ``docs/security.md``.
"""
