"""Execution engines beyond one machine. Each module imports its engine's package itself, so
the core install never needs them (``quotestance[ray]`` for ``ray_data``)."""
