"""The studies users run end to end: repurposing benchmark, explanation study, demo."""
