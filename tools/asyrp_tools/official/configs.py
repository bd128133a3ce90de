"""Official hyper-parameters per backbone and defaults per dataset.

Architectures come from the checkpoint-keys manifests (which were made from
Asyrp_official a6c82dc and cross-checked against SDEdit / ILVR / P2 /
guided-diffusion); defaults from docs/method.md §1.7: t_boost is the smallest t with
LPIPS(x, x_t) >= 1.2 in the dataset's x table, t_edit the smallest t with
LPIPS(x0, P_t) >= 0.33·cos in the x0_t table.  Datasets without tables (ffhq,
imagenet) get the maintainer's recommended manual values (t_edit in 400–700,
t_boost in 100–400; docs/method.md §1.7), taken from the nearest domain.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from .adm import ADM, ADMConfig
from .ddpm import DDPM, DDPMConfig

DDPM_256 = DDPMConfig()
ADM_128 = ADMConfig()
ADM_IMAGENET = ADMConfig(model_channels=256, num_res_blocks=2, attention_ds=(8, 16, 32))


@dataclass(frozen=True)
class Dataset:
    name: str               # --dataset value
    title: str
    arches: tuple           # --arch values that have an official checkpoint
    manifest: str           # checkpoint-keys/<manifest>.json (for the default arch)
    preprocess: str         # "align-face" for aligned face crops, else "center-crop"
    lpips_table: Optional[str]  # lpips-tables/<table>_LPIPS_distance_*.tsv prefix
    t_edit: int             # default tEdit (cos = 1 threshold 0.33 unless noted)
    t_boost: int            # default tBoost (x table >= 1.2)
    checkpoint: str         # official file name


DATASETS = {
    "celeba": Dataset("celeba", "CelebA-HQ faces (DDPM, SDEdit weights)", ("ddpm", "adm"), "celeba_hq_ddpm",
                      "align-face", "celeba", 538, 167, "celeba_hq.ckpt"),
    "church": Dataset("church", "LSUN church outdoor (DDPM, SDEdit weights)", ("ddpm",), "lsun_church_ddpm",
                      "center-crop", "church", 396, 293, "church_outdoor.ckpt"),
    "bedroom": Dataset("bedroom", "LSUN bedroom (DDPM, SDEdit weights)", ("ddpm",), "lsun_bedroom_ddpm",
                       "center-crop", "bedroom", 384, 221, "bedroom.ckpt"),
    "afhq": Dataset("afhq", "AFHQ dog (iDDPM, ILVR weights)", ("iddpm",), "afhq_dog_iddpm",
                    "center-crop", "afhq", 482, 167, "afhq_dog_4m.pt"),
    "metfaces": Dataset("metfaces", "MetFaces (ADM + P2 weighting)", ("adm",), "metfaces_p2_adm",
                        "align-face", "metface", 396, 180, "metface_p2.pt"),
    # No LPIPS tables ship for FFHQ / ImageNet / CelebA-P2 (docs/method.md §1.7): use the
    # CelebA values (same face alignment, same ADM family's noise behaviour).
    "ffhq": Dataset("ffhq", "FFHQ faces (iDDPM)", ("iddpm",), "ffhq_iddpm",
                    "align-face", None, 538, 167, "ffhq_10m.pt"),
    "imagenet": Dataset("imagenet", "ImageNet 256 unconditional (ADM)", ("adm", "iddpm"), "imagenet256_uncond",
                        "center-crop", None, 500, 200, "256x256_diffusion_uncond.pt"),
}

# --arch adm with --dataset celeba means the P2 CelebA-HQ checkpoint.
MANIFEST_OVERRIDES = {("celeba", "adm"): "celeba_hq_p2_adm"}
CHECKPOINT_OVERRIDES = {("celeba", "adm"): "celebahq_p2.pt"}


def manifest_name(dataset: str, arch: str) -> str:
    return MANIFEST_OVERRIDES.get((dataset, arch), DATASETS[dataset].manifest)


def official_config(dataset: str, arch: str):
    """The official hyper-parameters for (dataset, arch); ValueError if no
    such official checkpoint exists."""
    ds = DATASETS.get(dataset)
    if ds is None:
        raise ValueError(f"unknown dataset {dataset!r}; one of {', '.join(DATASETS)}")
    if arch not in ds.arches:
        raise ValueError(f"no official {arch} checkpoint for {dataset}; use --arch {'|'.join(ds.arches)}")
    if arch == "ddpm":
        return DDPM_256
    return ADM_IMAGENET if dataset == "imagenet" else ADM_128


def build(cfg):
    return DDPM(cfg) if isinstance(cfg, DDPMConfig) else ADM(cfg)
