"""The data layer: themes, labels, images, splits and datasets on SQLite."""
