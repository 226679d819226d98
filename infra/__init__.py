"""Shared plumbing of the three services: settings, stores, Redis, relay, consumers, health."""
