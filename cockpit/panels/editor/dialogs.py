"""Dialogs of the editor: the tune job's trials and sampler (with the recommendation and
why), and the study whose best parameters to apply."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from cockpit.richtext import escaped, plain
from core.config.optuna_params import OptunaParams
from core.tuning.results import StudySummary
from core.tuning.selection import UNKNOWN, Profile, choose_pruner, choose_sampler, recommend_trials

SAMPLERS = ("auto", "random", "grid", "tpe", "cmaes")


class TuneJobDialog(QDialog):
    """Trials, sampler and jobs of a tune job; the recommendation is the default."""

    def __init__(self, config: OptunaParams, theme: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Add tune job — {theme}")
        self.config = config
        self.profile: Profile = UNKNOWN
        self.seconds_per_trial: float | None = None
        self.recommendation = QLabel()
        self.recommendation.setWordWrap(True)
        self.recommendation.setObjectName("tune_recommendation")
        self.profile_label = plain(QLabel("measuring the model and the data…"))
        self.profile_label.setWordWrap(True)
        self.profile_label.setObjectName("tune_profile")
        self.n_trials = QSpinBox()
        self.n_trials.setRange(1, 100_000)
        self._user_set_trials = False
        self._recommend()
        self.sampler = QComboBox()
        self.sampler.addItems(SAMPLERS)
        self.sampler.setCurrentText(config.study.sampler)
        self.workers = QSpinBox()
        self.workers.setRange(1, 64)
        self.workers.setValue(config.study.n_parallel)
        self.workers.setToolTip(
            "workers sharing the study: parallel jobs, one per free GPU, CPU slot or Ray "
            "slot (the study file's n_parallel)"
        )
        self.explanation = QLabel()
        self.explanation.setWordWrap(True)
        self.explanation.setObjectName("tune_explanation")
        form = QFormLayout()
        study = config.study
        form.addRow(
            plain(QLabel(f"study {study.name!r}")), QLabel(f"{study.metric} ({study.direction})")
        )
        form.addRow("trials", self.n_trials)
        form.addRow("sampler", self.sampler)
        form.addRow("jobs", self.workers)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Add tune job")
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.profile_label)
        layout.addWidget(self.recommendation)
        layout.addLayout(form)
        layout.addWidget(self.explanation)
        layout.addWidget(buttons)
        self.n_trials.valueChanged.connect(self._explain)
        self.n_trials.editingFinished.connect(self._trials_edited)
        self.sampler.currentTextChanged.connect(self._explain)
        self._explain()
        self.resize(560, self.sizeHint().height())

    def _trials_edited(self) -> None:
        self._user_set_trials = True

    def set_plan(self, profile: Profile, seconds_per_trial: float | None) -> None:
        """The measured inputs arrived (counted off the GUI thread): recommend again."""
        self.profile, self.seconds_per_trial = profile, seconds_per_trial
        cost = (
            f"; ~{seconds_per_trial:.0f} s per trial on this theme's earlier runs"
            if seconds_per_trial
            else ""
        )
        self.profile_label.setText(f"Chosen from: {profile.describe()}{cost}")
        self._recommend()
        self._explain()

    def plan_failed(self, exc: BaseException) -> None:
        self.profile_label.setText(f"could not measure the model and the data: {exc}")

    def _recommend(self) -> None:
        recommended = recommend_trials(self.config, self.seconds_per_trial, self.profile)
        self.recommendation.setText(
            f"Recommended: <b>{recommended.name} trials</b> — {escaped(recommended.reason)} "
            f"(the study file says {self.config.study.n_trials})"
        )
        if not self._user_set_trials:
            self.n_trials.setValue(int(recommended.name))

    def _explain(self) -> None:
        n = self.n_trials.value()
        study = replace_sampler(self.config, self.sampler.currentText())
        sampler = choose_sampler(study, n, self.profile)
        pruner = choose_pruner(study, n, self.profile)
        self.explanation.setText(
            f"Sampler: {escaped(sampler.reason)}<br>Pruner: {escaped(pruner.reason)}"
        )

    def choice(self) -> tuple[int, str, int]:
        return self.n_trials.value(), self.sampler.currentText(), self.workers.value()


def replace_sampler(config: OptunaParams, sampler: str) -> OptunaParams:
    study = config.study.model_copy(update={"sampler": sampler})
    return config.model_copy(update={"study": study})


class StudyDialog(QDialog):
    """Pick a study of optuna.db; its best parameters go into the editor."""

    def __init__(self, studies: list[StudySummary], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Apply best parameters of a study")
        self.studies = QListWidget()
        for study in studies:
            best = (
                "no completed trial" if study.best_value is None else f"best {study.best_value:.4g}"
            )
            item = QListWidgetItem(
                f"{study.name} — {study.counts.get('complete', 0)} complete trials, {best}"
            )
            item.setData(Qt.ItemDataRole.UserRole, study.name)
            self.studies.addItem(item)
        if studies:
            self.studies.setCurrentRow(0)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        self.studies.itemDoubleClicked.connect(lambda _item: self.accept())
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel("Studies in optuna.db:"))
        layout.addWidget(self.studies)
        layout.addWidget(buttons)

    def chosen(self) -> str | None:
        item = self.studies.currentItem()
        return item.data(Qt.ItemDataRole.UserRole) if item else None
