"""Export Keras models to deployable artifacts and check them.

``tflite.to_tflite`` and ``onnx.to_onnx`` convert; ``runtime`` runs an artifact
on a batch (LiteRT / ONNX Runtime); ``parity`` compares the Keras model with its
artifacts; ``verify`` reads the weights back out of a .tflite file and checks
that the compression a variant claims is really in the file.

Submodules import TensorFlow lazily (inside functions) so that importing this
package stays cheap.
"""

from __future__ import annotations

__all__ = ["onnx", "parity", "runtime", "tflite", "verify"]
