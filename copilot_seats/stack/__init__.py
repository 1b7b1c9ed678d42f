"""The Pulumi program: seats.yaml + one live listing -> resources of the copilot provider."""
