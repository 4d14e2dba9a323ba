"""The generated form: the definitions (theme, dataset, model, adapter) first, then one
group of fields per config that defines them (Common, Dataset, Adapter, Model)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QGroupBox,
    QLabel,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from cockpit.panels.editor.fields import ParamField
from core.config.fields import ParamSpec
from core.config.params import SELECTOR_KEYS

ORDER = ("common", "dataset", "adapter", "model")


def group_title(owner: str) -> str:
    kind, _, name = owner.partition(" ")
    return f"{kind.capitalize()} · {name}" if name else kind.capitalize()


class ParamForm(QScrollArea):
    sig_edited = Signal(str, object)  # key, value
    sig_theme_chosen = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWidgetResizable(True)
        self.fields: dict[str, ParamField] = {}
        self._signature: tuple[tuple[str, str], ...] = ()
        self._definitions: dict[str, Any] = {"datasets": [], "models": {}}
        self.theme = QComboBox()
        self.theme.setObjectName("field_theme")
        self.theme.setToolTip("the theme whose images the jobs train on")
        self.theme.activated.connect(
            lambda _i: self.sig_theme_chosen.emit(self.theme.currentText())
        )
        self._body = QWidget()
        self._layout = QVBoxLayout(self._body)
        self._layout.setContentsMargins(4, 4, 4, 4)
        self.setWidget(self._body)

    # --- choices ------------------------------------------------------------------------
    def set_themes(self, names: Sequence[str], current: str | None) -> None:
        self.theme.clear()
        self.theme.addItems(list(names))
        if current in names:
            self.theme.setCurrentText(current)

    def set_definitions(self, datasets: Sequence[str], models: Mapping[str, Sequence[str]]) -> None:
        self._definitions = {"datasets": list(datasets), "models": dict(models)}

    def adapters_of(self, model: Any) -> list[str]:
        return list(self._definitions["models"].get(model, []))

    def _choices(self, key: str, values: Mapping[str, Any]) -> list[str] | None:
        if key == "dataset":
            return self._definitions["datasets"]
        if key == "model":
            return list(self._definitions["models"])
        if key == "adapter":
            return self.adapters_of(values.get("model"))
        return None

    # --- building -----------------------------------------------------------------------
    def rebuild(self, specs: Mapping[str, ParamSpec], values: Mapping[str, Any]) -> None:
        """New fields when the parameters changed (another model, say); else keep them."""
        adapters = tuple(self._choices("adapter", values) or ())
        signature = (*((k, s.owner) for k, s in specs.items()), ("adapters", str(adapters)))
        if signature == self._signature:
            return
        self._signature = signature
        focused = next((k for k, f in self.fields.items() if f.has_focus()), None)
        self._body = QWidget()
        self._layout = QVBoxLayout(self._body)
        self._layout.setContentsMargins(4, 4, 4, 4)
        self.fields = {}

        definitions = QGroupBox("Definitions")
        form = QFormLayout(definitions)
        form.addRow("theme", self.theme)
        for key in SELECTOR_KEYS:
            if key in specs:
                form.addRow(key, self._field(specs[key], self._choices(key, values)))
        self._layout.addWidget(definitions)

        owners = sorted(
            {s.owner for k, s in specs.items() if k not in SELECTOR_KEYS},
            key=lambda o: ORDER.index(o.split(" ")[0]) if o.split(" ")[0] in ORDER else 9,
        )
        for owner in owners:
            box = QGroupBox(group_title(owner))
            form = QFormLayout(box)
            form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
            for key, spec in specs.items():
                if spec.owner == owner and key not in SELECTOR_KEYS:
                    label = QLabel(key)
                    label.setToolTip(spec.description)
                    form.addRow(label, self._field(spec, None))
            self._layout.addWidget(box)
        self._layout.addStretch(1)
        self.setWidget(self._body)  # deletes the previous body; the theme box moved over
        if focused in self.fields:
            self.fields[focused].editor.setFocus()

    def invalidate(self) -> None:
        """Build the fields anew at the next ``rebuild`` (the choices changed)."""
        self._signature = ()

    def _field(self, spec: ParamSpec, choices: list[str] | None) -> ParamField:
        field = ParamField(spec, choices)
        field.sig_edited.connect(self.sig_edited)
        self.fields[spec.name] = field
        return field

    # --- state --------------------------------------------------------------------------
    def show_values(self, values: Mapping[str, Any]) -> None:
        """Show the document's values; the field being typed in keeps its text."""
        for key, field in self.fields.items():
            if key in values and not field.has_focus():
                field.set_value(values[key])

    def show_errors(self, errors: Mapping[str, str]) -> None:
        for key, field in self.fields.items():
            field.set_error(errors.get(key))
