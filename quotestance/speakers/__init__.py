"""Speakers: link quotes to mentions, resolve mentions to actors (coreference, registry)."""
