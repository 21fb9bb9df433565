"""Names the command line needs before anything heavy is imported (``--help`` must start fast):
the run profiles, cheapest first. ``theory.claims.PROFILE_NAMES`` must be equal (a test checks)."""

PROFILE_NAMES = ("ci", "dev", "thorough", "scale")
