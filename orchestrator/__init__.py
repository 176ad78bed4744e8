"""sre-agent: a multi-agent SRE orchestrator for Kubernetes incidents."""

__version__ = "0.1.0"
