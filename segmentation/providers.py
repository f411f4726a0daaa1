"""Which onnxruntime execution providers a worker's session runs on: SEGMENT_PROVIDERS.

`auto` takes CUDA when the installed onnxruntime has it (the onnxruntime-gpu package) and a GPU
is visible, else the CPU. An explicit comma list is taken as given, and a provider the installed
onnxruntime lacks is an error at worker start, not a silent fall back to the CPU.
"""
from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import onnxruntime as ort

from segmentation.model_store import ModelError

AUTO = "auto"
CUDA, CPU = "CUDAExecutionProvider", "CPUExecutionProvider"


def choose(setting: str, available: Sequence[str], gpu_visible: bool) -> list[str]:
    """The providers to ask for, in order of preference."""
    setting = (setting or AUTO).strip()
    if setting.lower() == AUTO:
        return [CUDA, CPU] if CUDA in available and gpu_visible else [CPU]
    wanted = [name.strip() for name in setting.split(",") if name.strip()]
    missing = [name for name in wanted if name not in available]
    if missing:
        hint = " (install onnxruntime-gpu instead of onnxruntime for CUDA)" if CUDA in missing else ""
        raise ModelError(f"SEGMENT_PROVIDERS names {', '.join(missing)}, which this onnxruntime does not offer; "
                         f"it offers {', '.join(available)}{hint}")
    return wanted


def resolve(setting: str) -> list[str]:
    """choose() for this machine's onnxruntime and devices."""
    return choose(setting, ort.get_available_providers(), gpu_visible())


def gpu_visible() -> bool:
    """An NVIDIA device node is present (what the CUDA provider needs to start)."""
    return Path("/dev/nvidiactl").exists() or any(Path("/dev").glob("nvidia[0-9]*"))


def check_started(wanted: Sequence[str], running: Sequence[str], *, explicit: bool) -> None:
    """onnxruntime drops a provider that fails to start (a CUDA library missing, no driver) and runs
    on the rest; with an explicit list that is an error, as the operator asked for that device."""
    if explicit and list(running) != list(wanted):
        raise ModelError(f"SEGMENT_PROVIDERS asked for {', '.join(wanted)}, but onnxruntime started "
                         f"{', '.join(running) or 'none'}: a provider failed to start (see onnxruntime's "
                         "warning above)")
