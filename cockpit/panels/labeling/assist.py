"""Model-assisted labeling in the Labeling panel: a bar that queues suggestion runs,
accepts suggestions (the selection's with Enter, or all with probability >= p after
a preview count) and undoes an acceptance; sorts the grid most-uncertain-first and
filters it to images whose label the model disagrees with; a ghost badge with the
suggested label on each thumbnail; and a dialog that walks the latest label-issue run
best first (keep / relabel to the suggestion / unlabel).

Everything here talks to the engine through ``core.assist`` in background workers; the
panel's hooks are listed in ``LabelingPanel`` (``assist`` attribute)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PySide6.QtCore import QEvent, QModelIndex, QObject, QPersistentModelIndex, Qt, Signal
from PySide6.QtGui import QColor, QImage, QImageReader, QKeyEvent, QPixmap
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDoubleSpinBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from cockpit.panels.labeling.delegate import ThumbnailDelegate
from cockpit.panels.labeling.model import IdRole
from cockpit.richtext import escaped, plain_rich
from cockpit.workers import run_in_background
from core.workspace import Workspace

ACCEPT_KEYS = (Qt.Key.Key_Return, Qt.Key.Key_Enter)  # accept the selection's suggestions


@dataclass(frozen=True)
class Shown:
    """What the grid shows of one image's suggestion."""

    label: str
    probability: float
    margin: float
    given: str | None
    model: str

    @property
    def disagrees(self) -> bool:
        return self.given is not None and self.given != self.label


def _load(workspace: Workspace, theme: str) -> dict[int, Shown]:
    from core.assist.suggest import suggestions
    from core.db import open_database

    return {
        s.image_id: Shown(s.label, s.probability, s.margin, s.given_label, s.model)
        for s in suggestions(open_database(workspace), theme)
    }


def _accept(workspace: Workspace, theme: str, min_prob: float, ids: list[int] | None) -> Any:
    from core.assist.accept import accept_suggestions
    from core.db import open_database

    return accept_suggestions(open_database(workspace), theme, min_prob=min_prob, image_ids=ids)


def _undo(workspace: Workspace, theme: str) -> Any:
    from core.assist.accept import undo_accept
    from core.db import open_database

    return undo_accept(open_database(workspace), theme)


def _submit(workspace: Workspace, theme: str, spec: str) -> Any:
    from core.assist.jobs import submit_suggest

    return submit_suggest(workspace, theme, spec, every=True)


class AssistBar(QWidget):
    """The suggestion controls above the grid."""

    sig_labels_changed = Signal()  # the database's labels changed: reload the grid
    sig_view_changed = Signal()  # sort or filter changed: arrange the rows again
    sig_loaded = Signal()

    def __init__(self, workspace: Workspace, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.workspace = workspace
        self.theme: str | None = None
        self.by_image: dict[int, Shown] = {}
        self.model_spec = QLineEdit(
            placeholderText="model, e.g. cells_model or cells_model@champion"
        )
        self.model_spec.setToolTip("registered model version whose suggestions to compute")
        suggest = QPushButton("Suggest labels")
        suggest.setToolTip("queue a job: the model predicts every image of the theme")
        suggest.clicked.connect(self.submit_suggest)
        self.min_prob = QDoubleSpinBox(decimals=2, minimum=0.0, maximum=1.0, singleStep=0.05)
        self.min_prob.setValue(0.9)
        self.min_prob.setToolTip("accept suggestions of unlabeled images at least this sure")
        self.min_prob.valueChanged.connect(self._update_preview)
        self.accept_all = QPushButton()
        self.accept_all.clicked.connect(self.accept_above)
        self.undo = QPushButton("Undo accept")
        self.undo.setToolTip("put back the labels the last acceptance replaced")
        self.undo.clicked.connect(self.undo_accept)
        self.sort_uncertain = QCheckBox("most uncertain first")
        self.sort_uncertain.setToolTip("sort by the suggestion's margin: the active-learning order")
        self.only_disagree = QCheckBox("model disagrees")
        self.only_disagree.setToolTip("show only labeled images whose suggestion differs")
        for box in (self.sort_uncertain, self.only_disagree):
            box.toggled.connect(lambda _on: self.sig_view_changed.emit())
        review = QPushButton("Review suspected issues")
        review.setToolTip("walk the latest label-issue run, best first")
        review.clicked.connect(self.open_review)
        self.status = QLabel()
        self.status.setTextFormat(Qt.TextFormat.RichText)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        for widget in (self.model_spec, suggest, QLabel("accept ≥"), self.min_prob):
            layout.addWidget(widget)
        for widget in (self.accept_all, self.undo, self.sort_uncertain, self.only_disagree, review):
            layout.addWidget(widget)
        layout.addWidget(self.status, 1)
        self._update_preview()

    # --- data ------------------------------------------------------------------------------
    def set_theme(self, name: str | None) -> None:
        self.theme = name
        if name and not self.model_spec.text():
            self.model_spec.setText(f"{name}_model")
        self.refresh()

    def refresh(self) -> None:
        if not self.theme:
            self.by_image = {}
            self._update_preview()
            return
        workspace, theme = self.workspace, self.theme
        run_in_background(lambda: _load(workspace, theme), self._loaded, self._failed)

    def _loaded(self, shown: dict[int, Shown]) -> None:
        self.by_image = shown
        self._update_preview()
        self.sig_loaded.emit()
        self.sig_view_changed.emit()

    def _failed(self, exc: BaseException) -> None:
        self.status.setText(f"<span style='color:#c62828'>{escaped(exc)}</span>")
        self.sig_loaded.emit()

    def suggested(self, image_id: int) -> Shown | None:
        return self.by_image.get(image_id)

    def preview_count(self) -> int:
        p = self.min_prob.value()
        return sum(1 for s in self.by_image.values() if s.given is None and s.probability >= p)

    def _update_preview(self) -> None:
        count = self.preview_count()
        self.accept_all.setText(f"Accept {count}")
        self.accept_all.setEnabled(count > 0)
        models = {s.model for s in self.by_image.values()}
        self.accept_all.setToolTip(
            plain_rich(
                f"label {count} unlabeled image(s) with the suggestion of "
                f"{', '.join(sorted(models)) or 'no model yet'} (Enter in the grid accepts "
                "the selected images' suggestions)"
            )
        )

    def arrange(self, rows: list[Any]) -> list[Any]:
        """The grid's rows as the sort and filter ask (rows without a suggestion last)."""
        if self.only_disagree.isChecked():
            rows = [
                r
                for r in rows
                if (s := self.by_image.get(r.id)) is not None
                and r.label_id is not None
                and s.disagrees
            ]
        if self.sort_uncertain.isChecked():
            far = float("inf")
            rows = sorted(
                rows, key=lambda r: self.by_image[r.id].margin if r.id in self.by_image else far
            )
        return rows

    # --- actions ---------------------------------------------------------------------------
    def _after_accept(self, outcome: Any) -> None:
        self.status.setText(escaped(f"accepted {outcome.count} suggestion(s) of {outcome.model}"))
        self.refresh()
        self.sig_labels_changed.emit()

    def accept_selection(self, ids: list[int]) -> None:
        if not ids or not self.theme:
            return
        workspace, theme = self.workspace, self.theme
        run_in_background(
            lambda: _accept(workspace, theme, 0.0, ids), self._after_accept, self._failed
        )

    def accept_above(self) -> None:
        if not self.theme:
            return
        workspace, theme, p = self.workspace, self.theme, self.min_prob.value()
        run_in_background(
            lambda: _accept(workspace, theme, p, None), self._after_accept, self._failed
        )

    def undo_accept(self) -> None:
        if not self.theme:
            return
        workspace, theme = self.workspace, self.theme

        def done(outcome: Any) -> None:
            kept = f"; {outcome.kept} relabeled since kept" if outcome.kept else ""
            self.status.setText(escaped(f"undid: {outcome.restored} label(s) restored{kept}"))
            self.refresh()
            self.sig_labels_changed.emit()

        run_in_background(lambda: _undo(workspace, theme), done, self._failed)

    def submit_suggest(self) -> None:
        spec = self.model_spec.text().strip()
        if not self.theme or not spec:
            return
        workspace, theme = self.workspace, self.theme
        run_in_background(
            lambda: _submit(workspace, theme, spec),
            lambda job: self.status.setText(escaped(f"queued suggestion job {job.id}")),
            self._failed,
        )

    def open_review(self) -> None:
        if not self.theme:
            return
        dialog = ReviewDialog(self.workspace, self.theme, self)
        dialog.finished.connect(lambda _r: (self.refresh(), self.sig_labels_changed.emit()))
        dialog.open()
        self.review = dialog


SuggestionRole = Qt.ItemDataRole.UserRole + 20  # the ghost badge (drawn by AssistDelegate)


class AssistDelegate(ThumbnailDelegate):
    """The grid's thumbnails (``ThumbnailDelegate``) plus a ghost badge with the suggested
    label, outlined in that label's colour on the view's base colour: under an unlabeled
    image ("circle? 87%"), above the label's badge when the model disagrees with the label
    ("≠ circle 87%"); none when the model agrees."""

    badge_roles = (*ThumbnailDelegate.badge_roles, SuggestionRole)

    def __init__(self, bar: AssistBar, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.bar = bar

    @staticmethod
    def badge_text(shown: Shown) -> str:
        if shown.disagrees:
            return f"≠ {shown.label} {shown.probability:.0%}"
        return f"{shown.label}? {shown.probability:.0%}"

    def badge(self, index: QModelIndex | QPersistentModelIndex, role: int) -> Any:
        if role != SuggestionRole:
            return super().badge(index, role)
        shown = self.bar.suggested(index.data(IdRole))
        if shown is None or (shown.given is not None and not shown.disagrees):
            return None
        model = index.model()
        colours = getattr(model, "label_colours", {})
        names = getattr(model, "label_names", {})
        colour = next(
            (colours[i] for i, name in names.items() if name == shown.label and i in colours),
            QColor("#808080"),
        )
        return self.badge_text(shown), colour, "ghost"


def _issues(workspace: Workspace, theme: str) -> tuple[list[dict[str, Any]], dict[str, int]]:
    from core.assist.issues import latest_issues
    from core.data.themes import get_theme
    from core.db import open_database

    db = open_database(workspace)
    with db.session() as session:
        labels = {label.label_name: label.id for label in get_theme(session, theme).labels}
    return latest_issues(db, theme), labels


def _relabel(workspace: Workspace, theme: str, image_id: int, label_id: int | None) -> None:
    from core.data.labeling import set_labels
    from core.data.themes import get_theme
    from core.db import open_database

    db = open_database(workspace)
    with db.session() as session:
        theme_id = get_theme(session, theme).id
    set_labels(db, theme_id, [image_id], label_id, labeled_by="review")


REVIEW_SIZE = 256  # the image's square in the review dialog


def _review_image(path: Path) -> QImage:
    """The image to review, decoded at the review's size when it is larger (a photo is
    not decoded whole), its EXIF orientation applied; null when it cannot be read."""
    reader = QImageReader(str(path))
    reader.setAutoTransform(True)
    size = reader.size()
    if size.isValid() and max(size.width(), size.height()) > REVIEW_SIZE:
        reader.setScaledSize(
            size.scaled(REVIEW_SIZE, REVIEW_SIZE, Qt.AspectRatioMode.KeepAspectRatio)
        )
    return reader.read()


class ReviewDialog(QDialog):
    """Suspected label errors of the latest finder run, best first: the image, its given
    and suggested label side by side. K keeps, R relabels to the suggestion, U unlabels;
    each moves on to the next."""

    sig_loaded = Signal()
    sig_saved = Signal()
    sig_image_shown = Signal(int)  # the image id whose picture is on show

    def __init__(self, workspace: Workspace, theme: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Review suspected label issues — {theme}")
        self.workspace, self.theme = workspace, theme
        self.issues: list[dict[str, Any]] = []
        self.labels: dict[str, int] = {}
        self.position = 0
        self.decisions: dict[int, str] = {}
        self.image = QLabel(alignment=Qt.AlignmentFlag.AlignCenter)
        self.image.setMinimumSize(REVIEW_SIZE, REVIEW_SIZE)
        self.given = QLabel()
        self.suggested = QLabel()
        for label in (self.given, self.suggested):  # the two labels to compare: large
            font = label.font()
            font.setPointSizeF(font.pointSizeF() * 1.4)
            font.setBold(True)
            label.setFont(font)
        self.counter = QLabel("loading …")
        side = QHBoxLayout()
        side.addWidget(self.given, 1)
        side.addWidget(self.suggested, 1)
        buttons = QHBoxLayout()
        for text, tip, slot in (
            ("Keep (K)", "the label is right: keep it and go to the next image", self.keep),
            (
                "Relabel to suggestion (R)",
                "give the image the model's label and go to the next image",
                self.relabel,
            ),
            ("Unlabel (U)", "remove the image's label and go to the next image", self.unlabel),
            (
                "Previous",
                "the previous suspected image",
                lambda: self.show_issue(self.position - 1),
            ),
            ("Next", "the next suspected image", lambda: self.show_issue(self.position + 1)),
        ):
            button = QPushButton(text)
            button.setToolTip(tip)
            button.clicked.connect(slot)
            button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            buttons.addWidget(button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.counter)
        layout.addWidget(self.image, 1)
        layout.addLayout(side)
        layout.addLayout(buttons)
        run_in_background(lambda: _issues(workspace, theme), self._loaded, self._failed)

    def _loaded(self, data: tuple[list[dict[str, Any]], dict[str, int]]) -> None:
        self.issues, self.labels = data
        self.show_issue(0)
        self.sig_loaded.emit()

    def _failed(self, exc: BaseException) -> None:
        self.counter.setText(escaped(exc))
        self.sig_loaded.emit()

    def current(self) -> dict[str, Any] | None:
        return self.issues[self.position] if 0 <= self.position < len(self.issues) else None

    def show_issue(self, position: int) -> None:
        if not self.issues:
            self.counter.setText(
                escaped(
                    "no suspected label errors in the latest finder run of this theme (or it "
                    f"has none yet: `cockpit label-issues --theme {self.theme}`)"
                )
            )
            return
        self.position = max(0, min(position, len(self.issues) - 1))
        issue = self.issues[self.position]
        # decoded on a worker thread: a large photo would hold the window for its decode
        wanted, path = issue["image_id"], self.workspace.root / issue["image_path"]
        run_in_background(
            lambda: _review_image(path),
            lambda image: self._image_read(wanted, image),
            lambda exc: self._image_read(wanted, None),
        )
        decided = self.decisions.get(issue["image_id"])
        self.counter.setText(
            escaped(
                f"{self.position + 1} / {len(self.issues)}  {issue.get('original_name') or ''}  "
                f"(rank {issue['rank']}, label quality {issue['score']:.3f})"
                + (f" — {decided}" if decided else "")
            )
        )
        self.given.setText(escaped(f"labeled: {issue['current'] or 'unlabeled'}"))
        self.suggested.setText(escaped(f"model suggests: {issue['suggested'] or '—'}"))

    def _image_read(self, image_id: int, image: QImage | None) -> None:
        issue = self.current()
        if issue is None or issue["image_id"] != image_id:
            return  # moved on meanwhile
        if image is None or image.isNull():
            self.image.setPixmap(QPixmap())
            self.image.setText(escaped(f"cannot read {issue['image_path']}"))
        else:  # small images are shown enlarged to the square
            self.image.setPixmap(
                QPixmap.fromImage(image).scaled(
                    REVIEW_SIZE,
                    REVIEW_SIZE,
                    Qt.AspectRatioMode.KeepAspectRatio,
                    Qt.TransformationMode.SmoothTransformation,
                )
            )
        self.sig_image_shown.emit(image_id)

    def _decide(self, what: str, label_id: int | None, write: bool) -> None:
        issue = self.current()
        if issue is None:
            return
        self.decisions[issue["image_id"]] = what
        if not write:
            self.show_issue(self.position + 1)
            return
        workspace, theme, image_id = self.workspace, self.theme, issue["image_id"]

        def saved(_result: Any) -> None:
            issue["current"] = next((n for n, i in self.labels.items() if i == label_id), None)
            self.sig_saved.emit()

        run_in_background(
            lambda: _relabel(workspace, theme, image_id, label_id), saved, self._failed
        )
        self.show_issue(self.position + 1)

    def keep(self) -> None:
        self._decide("kept", None, write=False)

    def relabel(self) -> None:
        issue = self.current()
        if issue is not None and issue["suggested"] in self.labels:
            self._decide(f"relabeled {issue['suggested']}", self.labels[issue["suggested"]], True)

    def unlabel(self) -> None:
        self._decide("unlabeled", None, write=True)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        actions = {Qt.Key.Key_K: self.keep, Qt.Key.Key_R: self.relabel, Qt.Key.Key_U: self.unlabel}
        action = actions.get(Qt.Key(event.key()))
        if action is not None:
            action()
            return
        super().keyPressEvent(event)


def handle_key(bar: AssistBar, event: QEvent, selected: list[int]) -> bool:
    """The grid's key hook: Enter (Return or the keypad's) accepts the selection's
    suggestions. Letters and digits are the labels' hotkeys, so no label can take it."""
    if event.type() == QEvent.Type.KeyPress and event.key() in ACCEPT_KEYS:
        bar.accept_selection(selected)
        return True
    return False
