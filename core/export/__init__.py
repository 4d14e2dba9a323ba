"""Model export to TorchScript and ONNX, each checked against the model it came from."""

from core.export.formats import ExportCheck, export_onnx, export_torchscript

__all__ = ["ExportCheck", "export_onnx", "export_torchscript"]
