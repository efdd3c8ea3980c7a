"""A griffe extension for the documentation site (mkdocs.yml): the docstrings' `Example:`
sections are read as Google-style `Examples:` sections, so their `>>>` lines render as
code. A title in brackets, `Example (about half a minute):`, becomes the section's first
line."""

from __future__ import annotations

import re

import griffe

_EXAMPLE = re.compile(r"^( *)Example(?: \((.*)\))?:$", re.M)


def _as_examples(match: re.Match) -> str:
    indent, note = match.group(1), match.group(2)
    return f"{indent}Examples:" + (f"\n{indent}    {note[0].upper()}{note[1:]}:" if note else "")


class ExampleSections(griffe.Extension):
    """Renames each docstring's `Example:` section header to `Examples:`."""

    def on_instance(self, *, obj: griffe.Object, **kwargs) -> None:
        if obj.docstring is not None:
            obj.docstring.value = _EXAMPLE.sub(_as_examples, obj.docstring.value)
