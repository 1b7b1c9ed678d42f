"""The native `copilot` Pulumi provider plugin: the only code that writes to GitHub."""
