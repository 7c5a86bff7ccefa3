"""quotestance: who said what, to whom, and with what stance, in German news."""

__version__ = "0.1.0"
