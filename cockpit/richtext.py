"""User text (theme, label, study, model and run names, paths, error messages) shown in Qt
widgets exactly as typed: never interpreted as HTML.

Qt guesses whether a QLabel's text, a tooltip or a message box's text is rich text
(``Qt::mightBeRichText``): a theme named ``<b>x</b>`` would show bold, and ``<img src=…>``
would load a file. So every such text goes through one of these:

- ``escaped(text)``: to embed in rich text we build ourselves (``f"<b>{escaped(name)}</b>"``);
- ``plain_rich(text)``: a whole plain text as rich text Qt shows literally (tooltips and
  message boxes, which cannot be told "plain");
- ``plain(label)``: a QLabel that shows only plain text.
"""

from __future__ import annotations

import html

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel


def escaped(text: object) -> str:
    """``text`` for embedding in rich text: ``<``, ``>``, ``&`` and quotes as entities."""
    return html.escape(str(text))


def plain_rich(text: object) -> str:
    """``text`` as rich text that shows it literally, line breaks kept."""
    return "<qt>" + escaped(text).replace("\n", "<br>") + "</qt>"


def plain(label: QLabel) -> QLabel:
    """``label`` made to show its text as plain text, whatever it contains."""
    label.setTextFormat(Qt.TextFormat.PlainText)
    return label
