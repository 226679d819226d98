"""The three services of lots: intake, scheduling and billing."""
