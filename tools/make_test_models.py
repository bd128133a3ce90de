"""Create the tiny random-weight UNet packages the TypeScript engine tests use:

  test/models/tiny-unet/            model.json + unet.onnx (R=16, a few channels)
  test/models/tiny-unet-bad-names/  same weights, ONNX input `image` instead of `x`

Deterministic (seeded); run from the repository root: python3 tools/make_test_models.py
"""
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from asyrp_tools.export import export_package, parity  # noqa: E402
from asyrp_tools.unet import UNet, UNetConfig  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def tiny_unet(seed: int = 1234) -> UNet:
    torch.manual_seed(seed)
    unet = UNet(UNetConfig(resolution=16, base_channels=8, channel_mult=(1, 2), groups=4, temb_in=16))
    # The zero-initialised output convs would make eps identically 0 and the
    # tests blind; give every parameter small random values instead.
    with torch.no_grad():
        for p in unet.parameters():
            p.copy_(torch.randn(p.shape) * 0.2)
    return unet.eval()


def main():
    unet = tiny_unet()
    out = os.path.join(ROOT, "test", "models", "tiny-unet")
    export_package(unet, out, "tiny-unet", "Tiny random-weight UNet (tests only)")
    print("tiny-unet parity:", parity(unet, os.path.join(out, "unet.onnx")))
    bad = os.path.join(ROOT, "test", "models", "tiny-unet-bad-names")
    export_package(unet, bad, "tiny-unet-bad-names", "Tiny UNet whose first input is misnamed (tests only)",
                   input_names=("image", "t", "delta_h"))


if __name__ == "__main__":
    main()
