"""Machine-made draft masks: model weights, onnxruntime sessions and the image pipeline.

No Flask or database imports here: workers and CLI commands call these functions.
"""
