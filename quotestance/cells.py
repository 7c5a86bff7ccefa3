"""Making text safe for the files users open in other programs: spreadsheets and XML.

Spreadsheets (Excel, LibreOffice, Google Sheets) run a cell that starts with ``=``, ``+``,
``-``, ``@``, a tab or a carriage return as a formula: a file name, quote or actor name of
the user's data must never become one ("CSV injection"). As OWASP recommends, such a cell
gets a leading apostrophe, which the spreadsheet shows as text and drops from the value.
XML 1.0 forbids most control characters; GraphML writers must leave them out.
"""

from __future__ import annotations

import re

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# XML 1.0 Char: #x9 | #xA | #xD | [#x20-#xD7FF] | [#xE000-#xFFFD] | [#x10000-#x10FFFF]
_XML_FORBIDDEN = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def spreadsheet_safe(value: object) -> object:
    """A CSV cell that no spreadsheet runs as a formula; numbers and None pass unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def xml_safe(text: str) -> str:
    """``text`` without the characters XML 1.0 forbids (control characters, lone surrogates,
    U+FFFE/U+FFFF)."""
    return _XML_FORBIDDEN.sub("", text)
