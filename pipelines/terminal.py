"""Printing values that come from data (file names, model names, people, error text) on a terminal safely.

Provider exports and file names are not ours: a model named `[/bold]` would be read as Rich markup (and
crash the print), `[link=…]` would become a hyperlink, and an escape sequence in a file name would drive
the terminal. Every such value goes through `shown` (Rich output) or `plain` (markup=False output).
"""

from __future__ import annotations

from rich.markup import escape

# C0 and C1 control characters, DEL, and the bidirectional overrides that can reorder what a terminal shows.
_CONTROL = [*range(0x00, 0x20), *range(0x7F, 0xA0), 0x200E, 0x200F, *range(0x202A, 0x202F), *range(0x2066, 0x206A)]
_ESCAPES = str.maketrans({c: ascii(chr(c))[1:-1] for c in _CONTROL})


def plain(value: object) -> str:
    """`value` as one line of text with every control character written as an escape (`\\x1b`, `\\n`)."""
    return str(value).translate(_ESCAPES)


def shown(value: object) -> str:
    """`value` safe to print through Rich with markup on: control characters and markup escaped."""
    return escape(plain(value))
