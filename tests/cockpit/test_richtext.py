"""User text in labels, tooltips and message boxes shows exactly as typed."""

import pytest
from PySide6 import QtGui
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel

from cockpit.richtext import escaped, plain, plain_rich

TEXTS = [
    "<b>x</b>",
    "it's & co",
    "a &lt; b",
    "<img src='/etc/passwd'>",
    "line one\nline <i>two</i>",
    "plain",
]


def as_rich(text: str) -> str:
    document = QtGui.QTextDocument()
    document.setHtml(text)
    return document.toPlainText().replace("\xa0", " ").replace("\u2029", "\n")


@pytest.mark.parametrize("text", TEXTS)
def test_plain_rich_is_rich_text_showing_the_text_literally(text):
    shown = plain_rich(text)
    assert QtGui.Qt.mightBeRichText(shown)  # tooltips and message boxes render it as rich text
    assert as_rich(shown) == text


@pytest.mark.parametrize("text", TEXTS)
def test_escaped_text_inside_our_markup_shows_literally(text):
    assert as_rich(f"<b>Labels of {escaped(text)}</b>") == f"Labels of {text}".replace("\n", " ")


def test_plain_labels_never_interpret_markup(qtbot):
    label = plain(QLabel())
    qtbot.addWidget(label)
    label.setText("created theme '<b>x</b>'")
    assert label.textFormat() == Qt.TextFormat.PlainText
    assert label.text() == "created theme '<b>x</b>'"
