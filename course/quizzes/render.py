"""Safe rendering of bank text: Markdown to HTML with raw HTML switched off.

Bank authors write Markdown. Any HTML they type (a `<script>`, an `onerror=` attribute) is
escaped and shows as text; markdown-it also refuses `javascript:` and similar link targets.
"""
from __future__ import annotations

import functools
import html


@functools.cache
def _markdown():
    from markdown_it import MarkdownIt

    return MarkdownIt("commonmark", {"html": False}).enable("table")


def markdown_html(text: str) -> str:
    return _markdown().render(text)


def inline_html(text: str) -> str:
    """Markdown for one line (an option, a feedback sentence) without a wrapping paragraph."""
    return _markdown().renderInline(text)


def plain(text: str) -> str:
    """Markdown for a plain-text label (radio buttons, check boxes, drop-downs show no markup)."""
    import re

    text = re.sub(r"`([^`]*)`", r"\1", text)
    return re.sub(r"(\*\*|__)(.+?)\1", r"\2", text)


def escape(text: str) -> str:
    return html.escape(text, quote=True)
