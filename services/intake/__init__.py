"""Intake: referrals from other municipal systems, validated, answered, and the cases they open."""
