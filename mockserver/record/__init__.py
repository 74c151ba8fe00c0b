"""Recording a real AgentOS: the proxy a UI talks through, the per-team scenario files it writes,
and the import of captures made without it (curl output, browser HAR files)."""
