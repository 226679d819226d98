"""Scheduling: the wait queue, staff, meetings booked and held."""
