"""Python side of Asyrp bot: synthetic faces, a small DDPM UNet, its training,
the ONNX export to the engine's model package format, and an attribute reader."""
