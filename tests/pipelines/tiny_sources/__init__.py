"""Test-only sources, added through the registry alone: each is a spec module plus its mapping SQL."""
