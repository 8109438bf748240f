"""Run priority by tenant tier, boosted by age so free tenants are never starved (SPEC §5)."""

TIER_BASE_PRIORITY = {"free": 50, "premium": 70, "enterprise": 90}
MAX_AGE_BOOST = 20


def run_priority(tier: str, waited_hours: float = 0.0) -> int:
    """base(tier) + one point per hour waited (capped at +20), clamped to 0..100."""
    base = TIER_BASE_PRIORITY.get(tier, TIER_BASE_PRIORITY["free"])
    boost = min(max(waited_hours, 0.0), MAX_AGE_BOOST)
    return int(max(0, min(100, base + boost)))
