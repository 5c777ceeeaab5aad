"""Nothing the agent writes runs with the orchestrator's rights.

The agent (and, today, every check) can write the work tree. What the
orchestrator runs with its own rights must come from what a person wrote:

- :mod:`~orchestrator.guard.inputs`: ``.agent/`` (config, hook scripts, plans),
  the config file and the programs it names, as they were when the run started;
- :mod:`~orchestrator.guard.refs`: HEAD, the branch and every other ref, as the
  orchestrator last left them;
- :mod:`~orchestrator.guard.history`: a milestone is done only when the
  orchestrator recorded its commit and HEAD's history has it;
- :mod:`~orchestrator.guard.run_guard`: all of the above plus the run state file,
  checked after every codex step and validation;
- :mod:`~orchestrator.guard.pins`: the security-relevant settings a run started
  with; a later invocation continues it only with them, or with the changes a
  person accepts.

The run state's seal under ``.git`` is :mod:`orchestrator.store.seal`.

See ``docs/security.md``.
"""
