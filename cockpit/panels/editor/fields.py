"""One form field per parameter, generated from its ParamSpec: spin box, check box,
combo box or line edit, with the help text as tooltip and the validation message in red
under the field."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import yaml
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QWheelEvent
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QLabel,
    QLineEdit,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from core.config.fields import ParamSpec
from core.hashing import UNHASHED_KEYS

INT32 = (-(2**31), 2**31 - 1)
ERROR_STYLE = "color: #c62828;"
INVALID_BORDER = "border: 1px solid #c62828;"


def _int_range(spec: ParamSpec) -> tuple[int, int]:
    bounds = spec.bounds
    low = bounds.get("ge", bounds["gt"] + 1 if "gt" in bounds else INT32[0])
    high = bounds.get("le", bounds["lt"] - 1 if "lt" in bounds else INT32[1])
    return max(int(low), INT32[0]), min(int(high), INT32[1])


def range_text(spec: ParamSpec) -> str:
    symbols = {"ge": "≥", "gt": ">", "le": "≤", "lt": "<"}
    return ", ".join(f"{symbols[k]} {v}" for k, v in spec.bounds.items())


def _shown(value: Any) -> str:
    """A value as text in a line edit: numbers as Python writes them, lists in YAML."""
    if isinstance(value, str):
        return value
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_shown(v) for v in value) + "]"
    return str(value)


def _parsed(text: str) -> Any:
    """What a line edit of a number or list parameter holds; text that is neither stays text,
    and validation names the problem."""
    stripped = text.strip()
    if "," in stripped and not stripped.startswith("["):
        stripped = f"[{stripped}]"
    try:
        return yaml.safe_load(stripped) if stripped else text
    except yaml.YAMLError:
        return text


class _WheelOnFocus:
    """Scrolling the form must not change the value under the mouse pointer."""

    def wheelEvent(self, event: QWheelEvent) -> None:
        if self.hasFocus():  # type: ignore[attr-defined]
            super().wheelEvent(event)  # type: ignore[misc]
        else:
            event.ignore()


class SpinBox(_WheelOnFocus, QSpinBox):
    pass


class ComboBox(_WheelOnFocus, QComboBox):
    pass


class ParamField(QWidget):
    """The editor of one parameter and its error message."""

    sig_edited = Signal(str, object)  # key, new value (only for edits by the user)

    def __init__(
        self, spec: ParamSpec, choices: Sequence[Any] | None = None, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.spec = spec
        self.key = spec.name
        choices = choices if choices is not None else spec.choices
        base = spec.base_type
        self.editor: QWidget
        if choices is not None:
            combo = ComboBox()
            combo.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
            for choice in choices:
                combo.addItem(str(choice), choice)
            combo.activated.connect(lambda _i: self._edited(combo.currentData()))
            self.editor = combo
        elif base is bool:
            check = QCheckBox()
            check.clicked.connect(lambda checked: self._edited(bool(checked)))
            self.editor = check
        elif base is int:
            spin = SpinBox()
            spin.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
            spin.setRange(*_int_range(spec))
            spin.setKeyboardTracking(True)
            spin.valueChanged.connect(lambda value: self._edited(int(value)))
            self.editor = spin
        else:
            line = QLineEdit()
            text_only = base is str
            line.textEdited.connect(lambda text: self._edited(text if text_only else _parsed(text)))
            if spec.bounds:
                line.setPlaceholderText(range_text(spec))
            self.editor = line
        self.editor.setObjectName(f"field_{self.key}")
        self.error = QLabel()
        self.error.setObjectName(f"error_{self.key}")
        self.error.setWordWrap(True)
        self.error.setStyleSheet(ERROR_STYLE)
        self.error.hide()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(1)
        layout.addWidget(self.editor)
        layout.addWidget(self.error)
        tip = spec.description or spec.name
        if spec.bounds:
            tip += f" ({range_text(spec)})"
        if self.key in UNHASHED_KEYS:
            tip += f". Not part of the experiment id: {UNHASHED_KEYS[self.key]}"
        tip += f"\ndefault: {_shown(spec.default)} · defined by {spec.owner}"
        self.setToolTip(tip)
        self.editor.setToolTip(tip)
        self._setting = False

    def _edited(self, value: Any) -> None:
        if not self._setting:
            self.sig_edited.emit(self.key, value)

    def has_focus(self) -> bool:
        return self.editor.hasFocus() or any(
            child.hasFocus() for child in self.editor.findChildren(QWidget)
        )

    def value(self) -> Any:
        editor = self.editor
        if isinstance(editor, QComboBox):
            return editor.currentData()
        if isinstance(editor, QCheckBox):
            return editor.isChecked()
        if isinstance(editor, QSpinBox):
            return editor.value()
        assert isinstance(editor, QLineEdit)
        return editor.text() if self.spec.base_type is str else _parsed(editor.text())

    def set_value(self, value: Any) -> None:
        """Show ``value`` without reporting it as an edit; a value the widget cannot hold
        (out of range, not a choice) is shown as it is, for the error to point at."""
        self._setting = True
        try:
            editor = self.editor
            if isinstance(editor, QComboBox):
                index = editor.findData(value)
                if index < 0:
                    editor.addItem(f"{value} (not a choice)", value)
                    index = editor.count() - 1
                editor.setCurrentIndex(index)
            elif isinstance(editor, QCheckBox):
                editor.setChecked(bool(value))
            elif isinstance(editor, QSpinBox) and isinstance(value, int):
                if not editor.minimum() <= value <= editor.maximum():
                    clipped = max(INT32[0], min(INT32[1], value))
                    editor.setRange(min(editor.minimum(), clipped), max(editor.maximum(), clipped))
                editor.setValue(value)
            elif (
                isinstance(editor, QLineEdit)
                and editor.text() != _shown(value)
                and (_parsed(editor.text()) != value or isinstance(value, str))
            ):
                editor.setText(_shown(value))
        finally:
            self._setting = False

    def set_error(self, message: str | None) -> None:
        self.error.setText(message or "")
        self.error.setVisible(bool(message))
        self.editor.setStyleSheet(INVALID_BORDER if message else "")
