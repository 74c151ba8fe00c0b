"""A mock of the Agno AgentOS team-run endpoint that replays YAML scenarios as SSE streams."""

__version__ = "0.1.0"
