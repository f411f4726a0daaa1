"""How HARD_DRAFT_CONFIDENCE was chosen: draft confidence (segmentation.draft.mask_confidence) on the generated
cases of tests/support/mask_cases.py, from the tests' tiny models, the exact alpha (a crisp, right mask), the
mistaken mask, and the exact alpha blurred by a Gaussian of sigma 1-8 px (ever more undecided edges).

Run: .venv/bin/python -m bench.hard_drafts
"""
import io
import pathlib
import tempfile

import numpy as np
from PIL import Image
from scipy import ndimage

from segmentation.draft import make_draft, mask_confidence
from segmentation.sessions import load_onnx
from tests.support import mask_cases as mc
from tests.support import onnx_models


def main() -> None:
    folder = pathlib.Path(tempfile.mkdtemp())
    models = {}
    for name in ("box", "soft", "bright"):
        getattr(onnx_models, f"{name}_model")(folder / f"{name}.onnx")
        models[name] = load_onnx(folder / f"{name}.onnx", "isnet", threads=1)
    cases = {"light_rim": mc.light_rim_case(), "missed_arm": mc.missed_arm_case(),
             "extra_blob": mc.extra_blob_case(), "hair": mc.hair_case()}
    for name, case in cases.items():
        buffer = io.BytesIO()
        Image.fromarray(case.image).save(buffer, "PNG")
        row = {model: round(make_draft(m, buffer.getvalue()).confidence, 3) for model, m in models.items()}
        exact = case.exact_alpha.astype(np.float32) / 255
        row["exact"] = round(mask_confidence(exact), 3)
        row["mistaken"] = round(mask_confidence(case.model_mask.astype(np.float32) / 255), 3)
        for sigma in (1, 2, 4, 8):
            row[f"blur{sigma}"] = round(mask_confidence(ndimage.gaussian_filter(exact, sigma)), 3)
        print(name, row)


if __name__ == "__main__":
    main()
