"""GitHub's Copilot seat API: the HTTP client, credentials, and the live seat model."""
