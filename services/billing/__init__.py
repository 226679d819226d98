"""Billing: tariffs, sessions and the monthly settlement."""
