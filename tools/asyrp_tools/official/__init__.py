"""Converters for the official Asyrp backbones and released directions (issue #9).

Modules:
  layers      device context (build on 'meta' without allocating) and time embeddings
  ddpm        the DDPM UNet of CelebA-HQ / LSUN (SDEdit weights), official key names
  adm         the iDDPM / guided-diffusion ADM UNet (AFHQ, FFHQ, MetFaces, P2, ImageNet)
  deltablock  Asyrp's direction network f_t, both variants
  configs     the official hyper-parameters and per-dataset defaults
  ckpt        allow-listed checkpoint reader (no arbitrary unpickling)
  strict      strict state_dict loading and manifest comparison
  export      one-graph ONNX export (x, t, delta_h -> eps, eps_edit, h), parity
  lpips       t_edit / t_boost from the official LPIPS tables (docs/method.md §1.7)
  calibrate   Δh_t^mean from a DeltaBlock over calibration trajectories (§2.3)
  safetensors minimal reader/writer for the #2 direction format
"""
