"""Stance: what a speaker does to another actor in a quote (threat, cooperation, accusation,
none; definitions in shared/spec/stance-labels.md and docs/stance-guidelines.md)."""
