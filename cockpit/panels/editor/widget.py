"""The Configuration editor: a form generated from the definitions' dataclass configs and
the YAML of params.yaml / augments.yaml / optuna_params.yaml, kept in sync and validated as
you type; what a train job would do (new, resume, adds epochs, complete) with the diff
against the nearest earlier experiment; augmented images of the theme; Add train / tune
job through the same core functions as ``cockpit submit``."""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

from PySide6.QtCore import QFileSystemWatcher, Qt, QTimer, Signal
from PySide6.QtGui import QFont, QFontDatabase, QTextCursor
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from cockpit.panels.editor.checks import (
    DOCUMENTS,
    EditorCheck,
    StartState,
    check_editor,
    document_paths,
    load_start,
    read_text,
    submit_train_job,
    submit_tune_job,
)
from cockpit.panels.editor.form import ParamForm
from cockpit.panels.editor.views import AugmentationGrid, PreviewView
from cockpit.richtext import plain
from cockpit.workers import run_in_background
from core.config.editing import set_top_level_value
from core.hashing import canonicalize
from core.workspace import Workspace

TAB_TITLES = {"params": "params", "augments": "augments", "optuna": "optuna_params"}
DEBOUNCE_MS = 150
OK_STYLE = "color: #2e7d32;"
ERROR_STYLE = "color: #c62828;"


class ConfigEditorPanel(QWidget):
    sig_loaded = Signal()
    sig_job_submitted = Signal(str)  # job id

    def __init__(self, workspace: Workspace, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.workspace = workspace
        self.start_runner = True  # tests queue jobs without starting the runner
        self.theme: str | None = None
        self.check: EditorCheck | None = None
        self.paths: dict[str, Path] = document_paths(workspace)
        self._saved: dict[str, str] = dict.fromkeys(DOCUMENTS, "")
        self._started = False
        self._pending_params: list[tuple[dict[str, Any], str]] = []
        self._generation = 0
        self._checking = False
        self._loaded = False
        self._augment_seed = 0
        self._augment_request = 0
        self._augment_stale = True
        # run each augmentation once in the checks from the first edit of augments.yaml on
        # (not before: the start must not import the engine), also after it was saved
        self._try_transforms = False
        self._busy = False

        self.form = ParamForm()
        self.form.sig_edited.connect(self._field_edited)
        self.form.sig_theme_chosen.connect(self.set_theme)
        self.form.setMinimumWidth(380)

        self.preview = PreviewView()
        mono = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
        self.editors: dict[str, QPlainTextEdit] = {}
        self.tabs = QTabWidget()
        for name in DOCUMENTS:
            editor = QPlainTextEdit()
            editor.setObjectName(f"yaml_{name}")
            editor.setFont(QFont(mono))
            editor.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
            editor.textChanged.connect(lambda name=name: self._text_changed(name))
            self.editors[name] = editor
            self.tabs.addTab(editor, "")
        self.augmentations = AugmentationGrid()
        refresh = QPushButton("New samples")
        refresh.setToolTip("augment the images again with another random seed")
        refresh.clicked.connect(self._new_augment_samples)
        self.augment_note = plain(QLabel())
        self.augment_note.setWordWrap(True)
        augment_box = QWidget()
        augment_layout = QVBoxLayout(augment_box)
        row = QHBoxLayout()
        row.addWidget(self.augment_note, 1)
        row.addWidget(refresh)
        augment_layout.addLayout(row)
        augment_layout.addWidget(self.augmentations, 1)
        self.augment_tab = self.tabs.addTab(augment_box, "Augmentation preview")
        self.tabs.currentChanged.connect(self._tab_changed)
        self._update_tab_titles()

        self.problems = plain(QLabel())
        self.problems.setObjectName("problems")
        self.problems.setWordWrap(True)
        self.problems.setStyleSheet(ERROR_STYLE)
        self.problems.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.problems.hide()

        right = QSplitter(Qt.Orientation.Vertical)
        preview_box = QWidget()
        preview_layout = QVBoxLayout(preview_box)
        preview_layout.setContentsMargins(0, 0, 0, 0)
        preview_layout.addWidget(QLabel("<b>A train job of this configuration</b>"))
        preview_layout.addWidget(self.preview, 1)
        right.addWidget(preview_box)
        tabs_box = QWidget()
        tabs_layout = QVBoxLayout(tabs_box)
        tabs_layout.setContentsMargins(0, 0, 0, 0)
        tabs_layout.addWidget(self.tabs, 1)
        tabs_layout.addWidget(self.problems)
        right.addWidget(tabs_box)
        right.setSizes([250, 550])

        splitter = QSplitter()
        splitter.addWidget(self.form)
        splitter.addWidget(right)
        splitter.setStretchFactor(1, 3)
        splitter.setSizes([460, 820])

        self.load_button = QPushButton("Load…")
        self.load_button.setToolTip("load a parameter file into the tab shown")
        self.load_button.clicked.connect(self._choose_load)
        self.save_button = QPushButton("Save")
        self.save_button.setToolTip("write the changed files (atomically)")
        self.save_button.clicked.connect(lambda: self.save())
        self.save_as_button = QPushButton("Save as…")
        self.save_as_button.setToolTip(
            "write the tab shown to another file and edit that one from now on"
        )
        self.save_as_button.clicked.connect(self._choose_save_as)
        self.best_button = QPushButton("Apply best params…")
        self.best_button.setToolTip("load the best parameters of a tuning study")
        self.best_button.clicked.connect(self._choose_study)
        self.run_name = QLineEdit(placeholderText="run name (optional)")
        self.run_name.setObjectName("run_name")
        self.run_name.setToolTip(
            "what the Queue, Live, History and MLflow call this run; empty: the parameters "
            "that differ from the defaults (e.g. lr=0.01 bs=64). Not part of the experiment id"
        )
        self.run_name.setMaximumWidth(220)
        self.add_train = QPushButton("Add train job")
        self.add_train.setObjectName("add_train")
        self.add_train.clicked.connect(self.add_train_job)
        self.add_tune = QPushButton("Add tune job…")
        self.add_tune.setObjectName("add_tune")
        self.add_tune.clicked.connect(self._ask_tune_job)
        self.add_train.setEnabled(False)
        self.add_tune.setEnabled(False)
        self.status = plain(QLabel())
        self.status.setObjectName("status")
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        header = QHBoxLayout()
        header.addWidget(QLabel("<b>Configuration editor</b>"))
        header.addStretch(1)
        for button in (self.load_button, self.save_button, self.save_as_button, self.best_button):
            header.addWidget(button)
        footer = QHBoxLayout()
        footer.addWidget(self.status, 1)
        footer.addWidget(self.run_name)
        footer.addWidget(self.add_train)
        footer.addWidget(self.add_tune)
        layout = QVBoxLayout(self)
        layout.addLayout(header)
        layout.addWidget(splitter, 1)
        layout.addLayout(footer)

        self._watcher = QFileSystemWatcher(self)
        self._watcher.fileChanged.connect(self._file_changed)
        self._debounce = QTimer(self, singleShot=True, interval=DEBOUNCE_MS)
        self._debounce.timeout.connect(self._start_check)
        QTimer.singleShot(0, self._load)

    # --- public API -----------------------------------------------------------------------
    def set_theme(self, name: str) -> None:
        """Preview and submit for theme ``name``."""
        if not name or name == self.theme:
            return
        self.theme = name
        if self.form.theme.findText(name) < 0:
            self.form.theme.addItem(name)
        self.form.theme.setCurrentText(name)
        self._augment_stale = True
        self._schedule_check()

    def load_params(self, params: dict[str, Any], *, source: str) -> None:
        """Put ``params`` into the params document (the form follows): only the keys whose
        value differs from what the document gives now are written; nothing is saved."""
        if not self._started:
            self._pending_params.append((dict(params), source))
            return
        current: dict[str, Any] = {}
        if self.check is not None:
            resolved = self.check.params.resolved
            current = resolved.values if resolved else self.check.params.shown_values()
        text = self.editors["params"].toPlainText()
        changed = []
        for key, value in params.items():
            if key not in current or canonicalize(current[key]) != canonicalize(value):
                text = set_top_level_value(text, key, value)
                changed.append(key)
        self._replace_text("params", text)
        shown = ", ".join(changed[:6]) + (" …" if len(changed) > 6 else "")
        self._say(
            f"{len(changed)} parameter(s) from {source}"
            + (f": {shown}" if changed else " (all already as given)")
            + "; not saved yet"
        )

    @property
    def up_to_date(self) -> bool:
        """Whether the shown checks and preview are of the texts as they are now."""
        return (
            self.check is not None
            and self.check.generation == self._generation
            and not self._checking
            and not self._debounce.isActive()
        )

    def unsaved_documents(self) -> list[str]:
        """Names of the documents whose text differs from their file."""
        return [name for name in DOCUMENTS if self._dirty(name)]

    def text(self, name: str) -> str:
        return self.editors[name].toPlainText()

    def set_text(self, name: str, text: str) -> None:
        """Replace a document's text as if typed (undo keeps the previous text)."""
        self._replace_text(name, text)

    def load_file(self, name: str, path: Path) -> None:
        """Open ``path`` in document ``name``; Save then writes back to it."""
        text = read_text(Path(path))
        self.paths[name] = Path(path)
        self._saved[name] = text
        self._replace_text(name, text)
        self._watch_files()
        self.tabs.setCurrentIndex(DOCUMENTS.index(name))
        self._say(f"loaded {self.workspace.relative(Path(path))}")

    def save(self, name: str | None = None, path: Path | None = None) -> None:
        """Write document ``name`` (default: every changed one) atomically, off the GUI
        thread; the editor keeps the text whatever happens."""
        from core.fileio import atomic_write_text

        names = [name] if name else [n for n in DOCUMENTS if self._dirty(n)]
        if not names:
            self._say("nothing to save")
            return
        targets = {n: (Path(path) if path else self.paths[n], self.text(n)) for n in names}

        def write() -> dict[str, tuple[Path, str]]:
            for target, text in targets.values():
                atomic_write_text(target, text)
            return targets

        run_in_background(write, self._saved_files, self._show_error)

    def save_now(self) -> None:
        """Write every changed document at once, on this thread (the window is closing:
        a few small files); an OSError leaves the editor's text as it is."""
        from core.fileio import atomic_write_text

        targets = {n: (self.paths[n], self.text(n)) for n in DOCUMENTS if self._dirty(n)}
        for target, text in targets.values():
            atomic_write_text(target, text)
        self._saved_files(targets)

    def add_train_job(self) -> None:
        """Queue a train job of the editor's configuration (``cockpit submit train``)."""
        if not self._can_submit("train"):
            return
        if self._dirty("augments") and not self._ask_save_augments():
            return
        theme, text, label = self.theme, self.text("params"), self._label("params")
        workspace, start = self.workspace, self.start_runner
        name = self.run_name.text().strip() or None
        self._set_busy(True)
        run_in_background(
            lambda: submit_train_job(workspace, theme, text, label, start, name=name),
            lambda job: self._submitted([job], list(job.preflight.get("warnings", []))),
            self._submit_failed,
        )

    def submit_tune_job(self, n_trials: int, sampler: str, workers: int = 1) -> None:
        """Queue a study of the editor's study file (``cockpit submit tune``)."""
        if not self._can_submit("tune"):
            return
        theme, params, study = self.theme, self.text("params"), self.text("optuna")
        workspace, start = self.workspace, self.start_runner
        self._set_busy(True)
        run_in_background(
            lambda: submit_tune_job(
                workspace,
                theme,
                params,
                study,
                n_trials=n_trials,
                sampler=sampler,
                workers=workers,
                start=start,
            ),
            lambda result: self._submitted(*result),
            self._submit_failed,
        )

    def refresh_augmentations(self) -> None:
        """Augment real images of the theme with the editor's augments.yaml (in the
        background: albumentations is imported only now)."""
        check = self.check
        if not self.theme:
            self.augmentations.show_message("Choose a theme to see its images augmented.")
            return
        if check is None or check.params.resolved is None or check.augments_errors:
            self.augmentations.show_message(
                "Fix the configuration first (see the messages in red).", error=True
            )
            return
        self._augment_stale = False
        self._augment_request += 1
        request = self._augment_request
        workspace, theme, seed = self.workspace, self.theme, self._augment_seed
        values = dict(check.params.resolved.values)
        text, label = self.text("augments"), self._label("augments")
        self.augment_note.setText("augmenting…")

        def make() -> Any:
            from core.config.augments import AugmentsConfig, try_train_transforms
            from core.config.yaml_schema import validate_document
            from core.experiment.augmentation_preview import augmentation_samples
            from core.fileio import parse_yaml_mapping

            config = validate_document(AugmentsConfig, parse_yaml_mapping(text, label), label)
            try_train_transforms(config, label)
            return augmentation_samples(
                workspace,
                theme,
                values,
                config,
                images=3,
                variants=5,
                seed=seed,
                augments_label=label,
            )

        def done(samples: Any) -> None:
            if request != self._augment_request:
                return
            self.augmentations.show_samples(samples)
            size = values.get("image_size", "?")
            self.augment_note.setText(
                f"{len(samples)} train images of {theme!r}: as the network gets them "
                f"({size}×{size}, brightness {values.get('brightness')}) and through the train "
                "augmentations of augments.yaml (enlarged; without Normalize)"
            )

        def failed(exc: BaseException) -> None:
            if request == self._augment_request:
                self.augment_note.setText("")
                self.augmentations.show_message(str(exc), error=True)

        run_in_background(make, done, failed)

    def reload(self) -> None:
        """Read the themes and the registry again and refresh the preview (after labels,
        splits or definitions changed elsewhere); the documents' texts stay."""
        workspace = self.workspace
        run_in_background(lambda: load_start(workspace), self._show_choices, self._show_error)

    def shutdown(self) -> None:
        self._debounce.stop()

    # --- loading and checking -----------------------------------------------------------------
    def _load(self) -> None:
        workspace = self.workspace
        run_in_background(lambda: load_start(workspace), self._show_start, self._start_failed)

    def _start_failed(self, exc: BaseException) -> None:
        self._show_error(exc)
        self._started = True
        self._schedule_check()

    def _show_choices(self, state: StartState) -> None:
        self.form.set_definitions(state.datasets, state.models)
        if self.theme is None and state.themes:
            self.theme = state.themes[0]
        self.form.set_themes(state.themes, self.theme)
        if self._started:
            self.form.invalidate()
            self._augment_stale = True
            self._schedule_check()

    def _show_start(self, state: StartState) -> None:
        self._show_choices(state)
        for name in DOCUMENTS:
            self._saved[name] = state.texts[name]
            self._replace_text(name, state.texts[name], undoable=False)
        self._started = True
        self._watch_files()
        if state.problems:
            self._say("\n".join(state.problems), error=True)
        for params, source in self._pending_params:
            self.load_params(params, source=source)
        self._pending_params.clear()
        self._start_check()

    def _watch_files(self) -> None:
        wanted = [str(p) for p in self.paths.values() if p.exists()]
        stale = [p for p in self._watcher.files() if p not in wanted]
        if stale:
            self._watcher.removePaths(stale)
        missing = [p for p in wanted if p not in self._watcher.files()]
        if missing:
            self._watcher.addPaths(missing)

    def _file_changed(self, path: str) -> None:
        """A file changed on disk (another editor, `cockpit init`): take it over unless
        the editor holds unsaved text of it, which is never thrown away."""
        for name, own in self.paths.items():
            if str(own) != path:
                continue
            try:
                text = read_text(own)
            except Exception:  # gone or unreadable for a moment (an editor's save)
                continue
            if text == self._saved[name]:
                continue
            if text == self.text(name):  # our own save, seen before its confirmation
                self._saved[name] = text
                self._update_tab_titles()
                continue
            if self._dirty(name):
                self._say(
                    f"{self._label(name)} changed on disk; the editor keeps your unsaved text "
                    "(Save overwrites the file, Load… takes the file's)",
                    error=True,
                )
                continue
            self._saved[name] = text
            self._replace_text(name, text)
            self._say(f"{self._label(name)} changed on disk: reloaded")
        self._watch_files()

    def _label(self, name: str) -> str:
        return self.workspace.relative(self.paths[name])

    def _dirty(self, name: str) -> bool:
        return self.text(name) != self._saved[name]

    def _text_changed(self, name: str) -> None:
        self._update_tab_titles()
        if name in ("params", "augments"):
            self._augment_stale = True
        self._schedule_check()

    def _schedule_check(self) -> None:
        self._generation += 1
        self.add_train.setEnabled(False)
        self.add_tune.setEnabled(False)
        if self._started:
            self._debounce.start()

    def _start_check(self) -> None:
        if self._checking:
            return  # _checked starts the next one: the generation has moved on
        self._checking = True
        workspace, generation, theme = self.workspace, self._generation, self.theme
        texts = {name: self.text(name) for name in DOCUMENTS}
        labels = {name: self._label(name) for name in DOCUMENTS}
        self._try_transforms = self._try_transforms or self._dirty("augments")
        try_transforms = self._try_transforms
        run_in_background(
            lambda: check_editor(workspace, generation, theme, texts, labels, try_transforms),
            self._checked,
            self._check_failed,
        )

    def _check_failed(self, exc: BaseException) -> None:
        self._checking = False
        self._show_error(exc)
        self._finish_first_load()

    def _checked(self, result: EditorCheck) -> None:
        self._checking = False
        if result.generation != self._generation:
            self._start_check()  # edited meanwhile: this result is stale
            return
        self.check = result
        self._apply(result)
        self._finish_first_load()

    def _finish_first_load(self) -> None:
        if not self._loaded:
            self._loaded = True
            self.sig_loaded.emit()

    def _apply(self, result: EditorCheck) -> None:
        params = result.params
        if params.mapping is not None:  # malformed YAML leaves the form as it was
            values = params.shown_values()
            self.form.rebuild(params.specs, values)
            self.form.show_values(values)
            self.form.show_errors(params.field_errors)
        problems = [*params.errors, *result.augments_errors, *result.optuna_errors]
        self.problems.setText("\n".join(problems))
        self.problems.setVisible(bool(problems))
        self._update_tab_titles()
        if not params.ok:
            listed = [
                f"<b>{k}</b>: {html.escape(m, quote=False)}" for k, m in params.field_errors.items()
            ]
            self.preview.show_message(
                "invalid configuration",
                "<br>".join(listed[:6]) if listed else "fix the problem shown under the YAML",
            )
        elif not result.theme:
            self.preview.show_message("no theme", "create a theme and label images first")
        elif result.preview_error:
            self.preview.show_message(
                "cannot train yet", html.escape(result.preview_error, quote=False)
            )
        elif result.preview is not None:
            self.preview.show_preview(result.preview)
        trainable = result.preview is not None and not result.augments_errors
        redundant = _redundant_training(result.preview) if trainable else ""
        self.add_train.setEnabled(trainable and not redundant and not self._busy)
        self.add_tune.setEnabled(trainable and result.optuna is not None and not self._busy)
        why = "" if trainable else "the configuration has problems, or no trainable theme"
        self.add_train.setToolTip(why or redundant or "queue a training of this configuration")
        self.add_tune.setToolTip(
            why or ("fix optuna_params.yaml" if result.optuna is None else "queue a tuning study")
        )
        if self.tabs.currentIndex() == self.augment_tab and self._augment_stale:
            self.refresh_augmentations()

    def _update_tab_titles(self) -> None:
        check = self.check
        flagged = {
            "params": bool(check and (check.params.errors or check.params.field_errors)),
            "augments": bool(check and check.augments_errors),
            "optuna": bool(check and check.optuna_errors),
        }
        for index, name in enumerate(DOCUMENTS):
            title = self.paths[name].name or TAB_TITLES[name]
            if self._dirty(name):
                title += " *"
            if flagged[name]:
                title = "⚠ " + title
            self.tabs.setTabText(index, title)

    # --- edits --------------------------------------------------------------------------------
    def _replace_text(self, name: str, text: str, *, undoable: bool = True) -> None:
        editor = self.editors[name]
        if editor.toPlainText() == text:
            return
        if not undoable:
            editor.setPlainText(text)
            return
        cursor = QTextCursor(editor.document())
        position = editor.textCursor().position()
        cursor.select(QTextCursor.SelectionType.Document)
        cursor.insertText(text)
        cursor.setPosition(min(position, len(text)))
        editor.setTextCursor(cursor)

    def _field_edited(self, key: str, value: Any) -> None:
        text = set_top_level_value(self.text("params"), key, value)
        if key == "model":
            adapters = self.form.adapters_of(value)
            current = self.form.fields.get("adapter")
            if adapters and current is not None and current.value() not in adapters:
                text = set_top_level_value(text, "adapter", adapters[0])
        self._replace_text("params", text)

    # --- files --------------------------------------------------------------------------------
    def _current_document(self) -> str:
        index = self.tabs.currentIndex()
        return DOCUMENTS[index] if index < len(DOCUMENTS) else "params"

    def _choose_load(self) -> None:
        name = self._current_document()
        path, _ = QFileDialog.getOpenFileName(
            self,
            f"Load {TAB_TITLES[name]} file",
            str(self.paths[name].parent),
            "YAML (*.yaml *.yml)",
        )
        if path:
            try:
                self.load_file(name, Path(path))
            except Exception as exc:  # an unreadable file: say so, keep the editor's text
                self._show_error(exc)

    def _choose_save_as(self) -> None:
        name = self._current_document()
        path, _ = QFileDialog.getSaveFileName(
            self, f"Save {TAB_TITLES[name]} as", str(self.paths[name]), "YAML (*.yaml *.yml)"
        )
        if path:
            self.paths[name] = Path(path)
            self.save(name, Path(path))

    def _saved_files(self, targets: dict[str, tuple[Path, str]]) -> None:
        for name, (path, text) in targets.items():
            self.paths[name] = path
            self._saved[name] = text
        self._update_tab_titles()
        self._watch_files()
        self._say("saved " + ", ".join(self.workspace.relative(p) for p, _ in targets.values()))
        self._schedule_check()

    def _ask_save_augments(self) -> bool:
        answer = QMessageBox.question(
            self,
            "Unsaved augmentations",
            f"{self._label('augments')} has unsaved changes, and training reads the saved "
            "file. Save it now?",
            QMessageBox.StandardButton.Save
            | QMessageBox.StandardButton.Ignore
            | QMessageBox.StandardButton.Cancel,
        )
        if answer == QMessageBox.StandardButton.Cancel:
            return False
        if answer == QMessageBox.StandardButton.Save:
            from core.fileio import atomic_write_text

            atomic_write_text(self.paths["augments"], self.text("augments"))
            self._saved["augments"] = self.text("augments")
            self._update_tab_titles()
        return True

    # --- studies and jobs ---------------------------------------------------------------------
    def _choose_study(self) -> None:
        from core.tuning.results import list_studies

        workspace = self.workspace
        run_in_background(lambda: list_studies(workspace), self._pick_study, self._show_error)

    def _pick_study(self, studies: list[Any]) -> None:
        from cockpit.panels.editor.dialogs import StudyDialog

        if not studies:
            self._say("no tuning study in optuna.db yet: add a tune job first")
            return
        dialog = StudyDialog(studies, self)
        if dialog.exec() and dialog.chosen():
            self.apply_best_params(dialog.chosen())

    def apply_best_params(self, study_name: str) -> None:
        """Load the best parameters of ``study_name`` into the editor."""
        from core.tuning.results import best_params

        workspace = self.workspace
        run_in_background(
            lambda: best_params(workspace, study_name),
            lambda params: self.load_params(params, source=f"study {study_name}"),
            self._show_error,
        )

    def _ask_tune_job(self) -> None:
        from cockpit.panels.editor.dialogs import TuneJobDialog

        if not self._can_submit("tune") or self.check is None or self.check.optuna is None:
            return
        dialog = TuneJobDialog(self.check.optuna, self.theme or "", self)
        workspace, theme, config = self.workspace, self.theme or "", self.check.optuna

        def measure() -> Any:
            from core.history.costs import plan_study

            return plan_study(workspace, theme, config)

        run_in_background(
            measure,
            lambda plan: dialog.set_plan(plan.profile, plan.seconds_per_trial),
            dialog.plan_failed,
        )
        if dialog.exec():
            self.submit_tune_job(*dialog.choice())

    def _can_submit(self, kind: str) -> bool:
        button = self.add_train if kind == "train" else self.add_tune
        return button.isEnabled() and self.theme is not None

    def _set_busy(self, busy: bool) -> None:
        self._busy = busy
        if busy:
            self.add_train.setEnabled(False)
            self.add_tune.setEnabled(False)

    def _submitted(self, jobs: list[Any], warnings: list[str]) -> None:
        self._set_busy(False)
        if any(job.kind == "train" for job in jobs):
            self.run_name.clear()  # a name is for one run
        lines = [
            f"queued job {job.id}: {job.kind} {job.theme}" + (f" ({job.name})" if job.name else "")
            for job in jobs
        ]
        lines += [f"warning: {w}" for w in warnings]
        self._say("\n".join(lines))
        for job in jobs:
            self.sig_job_submitted.emit(job.id)
        self._schedule_check()

    def _submit_failed(self, exc: BaseException) -> None:
        self._set_busy(False)
        self._show_error(exc)
        self._schedule_check()

    # --- messages -----------------------------------------------------------------------------
    def _say(self, text: str, error: bool = False) -> None:
        self.status.setText(text)
        self.status.setStyleSheet(ERROR_STYLE if error else OK_STYLE)

    def _show_error(self, exc: BaseException) -> None:
        from core.errors import CockpitError

        text = str(exc) if isinstance(exc, CockpitError) else f"{type(exc).__name__}: {exc}"
        self._say(text, error=True)

    def _tab_changed(self, index: int) -> None:
        if index == self.augment_tab and self._augment_stale:
            self.refresh_augmentations()

    def _new_augment_samples(self) -> None:
        self._augment_seed += 1
        self.refresh_augmentations()


def _redundant_training(preview: Any) -> str:
    """Why a train job of this configuration would do nothing (the preview says its
    experiment is complete or already queued), with what to change; empty if it would."""
    if preview.mode == "complete":
        return "this experiment is already complete: raise max_epochs to train it further"
    for note in preview.notes:
        if note.endswith(("already pending", "already running")):
            return f"{note}: wait for it, or cancel it in the Queue tab"
    return ""
