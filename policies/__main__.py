"""The copilot-seats CrossGuard pack: drift, stale seats and hygiene, reported during preview.

Only wiring: the policies are built in copilot_seats.policies.pack (importable and unit-tested);
PolicyPack starts the analyzer server and never returns. See docs/policies.md.
"""

from pulumi_policy import EnforcementLevel, PolicyPack

from copilot_seats.policies.pack import PACK_NAME, build_policies

PolicyPack(PACK_NAME, policies=build_policies(), enforcement_level=EnforcementLevel.ADVISORY)
