from __future__ import annotations

from orchestrator.cli import main

raise SystemExit(main())
