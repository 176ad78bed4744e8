"""`python -m orchestrator`: the same command line as `sre-agent`."""

from orchestrator.cli import main

main()
