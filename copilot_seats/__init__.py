"""copilot-seats: GitHub Copilot seats as code.

``seats.yaml`` declares who should hold a Copilot seat; a Pulumi program reconciles it
against GitHub's Copilot seat API and a CrossGuard policy pack reports drift and stale
seats. The modules form a chain (see README "How it works")::

    loader -> spec            (desired state)
    api -> live               (live state)
    analysis, rules           (pure decisions shared by CLI, program and pack)
    resources, cli, render    (shells)
"""

__all__ = ["__version__"]

__version__ = "0.2.0"
