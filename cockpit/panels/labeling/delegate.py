"""How a thumbnail is drawn: the image, then a coloured label badge under it.

Colours come from the view's palette (selection, placeholder, text), and a badge's text is
black or white by the badge colour's luminance, so the grid reads on light and dark
palettes alike. ``badge_roles`` lists the model roles drawn as badges, bottom up; each role
gives ``(text, QColor)`` or ``(text, QColor, "ghost")`` (an outlined badge, e.g. a
model's suggestion) or None.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QRect, QSize, Qt
from PySide6.QtGui import QColor, QFontMetrics, QImage, QPainter, QPalette, QPen
from PySide6.QtWidgets import QStyle, QStyledItemDelegate, QStyleOptionViewItem

from cockpit.panels.labeling.chips import text_colour_on
from cockpit.panels.labeling.model import BadgeRole
from cockpit.panels.labeling.thumbnails import THUMB_SIZE

CELL = QSize(THUMB_SIZE + 20, THUMB_SIZE + 30)
BADGE_HEIGHT = 18


class ThumbnailDelegate(QStyledItemDelegate):
    badge_roles: tuple[int, ...] = (BadgeRole,)

    def sizeHint(self, option: QStyleOptionViewItem, index: Any) -> QSize:
        return CELL

    def paint(
        self,
        painter: QPainter,
        option: QStyleOptionViewItem,
        index: QModelIndex | QPersistentModelIndex,
    ) -> None:
        palette: QPalette = option.palette
        rect: QRect = option.rect.adjusted(2, 2, -2, -2)
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        if selected:
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(palette.color(QPalette.ColorRole.Highlight))
            painter.drawRoundedRect(rect, 6, 6)
        elif option.state & QStyle.StateFlag.State_MouseOver:
            hover = QColor(palette.color(QPalette.ColorRole.Highlight))
            hover.setAlpha(60)
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(hover)
            painter.drawRoundedRect(rect, 6, 6)
        if option.state & QStyle.StateFlag.State_HasFocus:
            painter.setPen(QPen(palette.color(QPalette.ColorRole.Highlight).lighter(130), 2))
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawRoundedRect(rect, 6, 6)

        box = QRect(
            rect.x() + (rect.width() - THUMB_SIZE) // 2, rect.y() + 3, THUMB_SIZE, THUMB_SIZE
        )
        image = index.data(Qt.ItemDataRole.DecorationRole)
        if isinstance(image, QImage) and not image.isNull():
            size = image.size().scaled(box.size(), Qt.AspectRatioMode.KeepAspectRatio)
            target = QRect(
                box.x() + (box.width() - size.width()) // 2,
                box.y() + (box.height() - size.height()) // 2,
                size.width(),
                size.height(),
            )
            # enlarged (a small image): nearest-neighbour, sharp pixels; reduced: smooth
            painter.setRenderHint(
                QPainter.RenderHint.SmoothPixmapTransform, size.width() < image.width()
            )
            painter.setRenderHint(QPainter.RenderHint.Antialiasing, False)
            painter.drawImage(target, image)
            painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        else:  # not decoded yet (or unreadable): a quiet box in the palette's colours
            painter.setPen(Qt.PenStyle.NoPen)
            placeholder = QColor(palette.color(QPalette.ColorRole.Mid))
            placeholder.setAlpha(90)
            painter.setBrush(placeholder)
            painter.drawRoundedRect(box, 4, 4)

        bottom = rect.bottom() - 2
        drawn = 0
        for role in self.badge_roles:
            badge = self.badge(index, role)
            if not badge:
                continue
            text, colour, *style = badge
            top = bottom - BADGE_HEIGHT * (drawn + 1) - 2 * drawn
            area = QRect(rect.x() + 4, top, rect.width() - 8, BADGE_HEIGHT)
            self.paint_badge(painter, option, area, text, colour, ghost=bool(style))
            drawn += 1
        if not drawn:
            faint = QColor(
                palette.color(
                    QPalette.ColorRole.HighlightedText if selected else QPalette.ColorRole.Text
                )
            )
            faint.setAlpha(140)
            painter.setPen(faint)
            area = QRect(rect.x() + 4, bottom - BADGE_HEIGHT, rect.width() - 8, BADGE_HEIGHT)
            painter.drawText(area, Qt.AlignmentFlag.AlignCenter, "unlabeled")
        painter.restore()

    def badge(self, index: QModelIndex | QPersistentModelIndex, role: int) -> Any:
        """The badge of ``role`` (the model's data; a subclass may draw others)."""
        return index.data(role)

    def paint_badge(
        self,
        painter: QPainter,
        option: QStyleOptionViewItem,
        area: QRect,
        text: str,
        colour: QColor,
        ghost: bool = False,
    ) -> None:
        """A pill with ``text``: filled with ``colour``, or only outlined when ``ghost``."""
        metrics = QFontMetrics(option.font)
        elided = metrics.elidedText(text, Qt.TextElideMode.ElideRight, area.width() - 10)
        width = min(area.width(), metrics.horizontalAdvance(elided) + 12)
        pill = QRect(area.x() + (area.width() - width) // 2, area.y(), width, area.height())
        if ghost:  # dashed outline on the view's base colour: reads over an image too
            fill = QColor(option.palette.color(QPalette.ColorRole.Base))
            fill.setAlpha(225)
            painter.setPen(QPen(colour, 1.5, Qt.PenStyle.DashLine))
            painter.setBrush(fill)
            painter.drawRoundedRect(pill, 8, 8)
            painter.setPen(option.palette.color(QPalette.ColorRole.Text))
        else:
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(colour)
            painter.drawRoundedRect(pill, 8, 8)
            painter.setPen(text_colour_on(colour))
        painter.drawText(pill, Qt.AlignmentFlag.AlignCenter, elided)
