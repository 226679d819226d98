"""Test support: a small real service built on the same infrastructure as the three services."""
