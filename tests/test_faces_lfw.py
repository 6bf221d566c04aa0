"""Notebook 08's verification protocol on LFW, end to end on a fake LFW of the real shape.

``DATASET = "lfw"`` cannot run in CI (no internet, and test mode falls back to the digits), so
here ``sklearn.datasets.fetch_lfw_people`` is replaced by a fake that returns what it would
return for ``min_faces_per_person=20``: 62 people with LFW's per-person image counts (3,023
images, 530 of George W Bush; the first 43 names in alphabetical order, the "known" identities,
hold 2,349), at scikit-learn's 50x50 size for ``resize=0.4`` of the course's 125x125 crop. The
faces are a per-person pattern plus noise, so an embedding of raw pixels separates people a
little. The course loader (`course_utils.data.load_lfw`, stratified 75/25 split, resize to 32x32)
serves them; `faces.verification_split` draws 08's four sets with quick mode's ``N_EVAL`` (600)
and full mode's (2,000), and `faces.evaluate_verification` / `faces.bootstrap_verification`
score the closed and the open set as the notebook does.
"""

from __future__ import annotations

import numpy as np
import pytest
import sklearn.datasets
from sklearn.utils import Bunch

from course_utils import data, faces

#: People in LFW with at least 20 images, alphabetical, with their image counts.
LFW_COUNTS_20 = {
    "Alejandro Toledo": 39, "Alvaro Uribe": 35, "Amelie Mauresmo": 21, "Andre Agassi": 36, "Angelina Jolie": 20,
    "Ariel Sharon": 77, "Arnold Schwarzenegger": 42, "Atal Bihari Vajpayee": 24, "Bill Clinton": 29,
    "Carlos Menem": 21, "Colin Powell": 236, "David Beckham": 31, "Donald Rumsfeld": 121, "George Robertson": 22,
    "George W Bush": 530, "Gerhard Schroeder": 109, "Gloria Macapagal Arroyo": 44, "Gray Davis": 26,
    "Guillermo Coria": 30, "Hamid Karzai": 22, "Hans Blix": 39, "Hugo Chavez": 71, "Igor Ivanov": 20,
    "Jack Straw": 28, "Jacques Chirac": 52, "Jean Chretien": 55, "Jennifer Aniston": 21, "Jennifer Capriati": 42,
    "Jennifer Lopez": 21, "Jeremy Greenstock": 24, "Jiang Zemin": 20, "John Ashcroft": 53, "John Negroponte": 31,
    "Jose Maria Aznar": 23, "Juan Carlos Ferrero": 28, "Junichiro Koizumi": 60, "Kofi Annan": 32, "Laura Bush": 41,
    "Lindsay Davenport": 22, "Lleyton Hewitt": 41, "Luiz Inacio Lula da Silva": 48, "Mahmoud Abbas": 29,
    "Megawati Sukarnoputri": 33, "Michael Bloomberg": 20, "Naomi Watts": 22, "Nestor Kirchner": 37,
    "Paul Bremer": 20, "Pete Sampras": 22, "Recep Tayyip Erdogan": 30, "Ricardo Lagos": 27, "Roh Moo-hyun": 32,
    "Rudolph Giuliani": 26, "Saddam Hussein": 23, "Serena Williams": 52, "Silvio Berlusconi": 33, "Tiger Woods": 23,
    "Tom Daschle": 25, "Tom Ridge": 33, "Tony Blair": 144, "Vicente Fox": 32, "Vladimir Putin": 49, "Winona Ryder": 24,
}


def _fake_fetch_lfw_people(*, min_faces_per_person=0, resize=0.5, slice_=None, **kwargs):
    names = sorted(LFW_COUNTS_20)
    counts = np.array([LFW_COUNTS_20[n] for n in names])
    keep = counts >= min_faces_per_person
    names, counts = [n for n, k in zip(names, keep) if k], counts[keep]
    side = int(125 * resize)
    rng = np.random.default_rng(0)
    prototypes = rng.random((len(names), side, side)).astype(np.float32)
    target = np.repeat(np.arange(len(names)), counts)
    images = np.clip(0.5 * prototypes[target] + 0.5 * rng.random((len(target), side, side)), 0, 1).astype(np.float32)
    return Bunch(images=images, data=images.reshape(len(images), -1), target=target,
                 target_names=np.array(names))


@pytest.fixture(scope="module")
def fake_lfw():
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(sklearn.datasets, "fetch_lfw_people", _fake_fetch_lfw_people)
        loaded = data.load_lfw(size=32, fallback=False, verbose=False)
    return loaded


def test_the_fake_has_lfws_shape(fake_lfw):
    (x_all, y_all), (x_held, y_held) = fake_lfw
    assert fake_lfw.source == "lfw" and len(fake_lfw.target_names) == 62
    assert len(x_all) + len(x_held) == 3023 and x_all.shape[1:] == (32, 32, 1)
    assert sum(sorted(LFW_COUNTS_20.values())) == 3023
    assert sum(LFW_COUNTS_20[n] for n in sorted(LFW_COUNTS_20)[:43]) == 2349


@pytest.mark.parametrize("n_eval", [600, 2000])
def test_closed_and_open_set_evaluation_runs_on_lfw(fake_lfw, n_eval):
    (x_all, y_all), (x_held, y_held) = fake_lfw
    split = faces.verification_split(y_all, y_held, n_eval)
    assert len(split.known) == 43
    sizes = {name: len(idx) for name, (_, idx) in split.sets.items()}
    # the hold-out of the 43 known people is below 2 * N_EVAL: both halves shrink, neither is empty
    n_closed = int(np.isin(y_held, split.known).sum())
    assert n_closed < 2 * 600 and sizes["closed_val"] == sizes["closed_test"] == n_closed // 2
    assert sizes["open_test"] == int((~np.isin(y_held, split.known)).sum()) < 600
    arrays = {"train": (x_all, y_all), "held": (x_held, y_held)}
    emb, lab = {}, {}
    for name, (which, idx) in split.sets.items():
        x, y = arrays[which]
        emb[name] = x[idx].reshape(len(idx), -1).astype(np.float32) / 255.0 - 0.5
        lab[name] = y[idx]
    assert not set(lab["open_val"]) & set(split.known) and not set(lab["open_test"]) & set(split.known)
    for part in ("closed", "open"):
        r = faces.evaluate_verification(emb[f"{part}_val"], lab[f"{part}_val"], emb[f"{part}_test"], lab[f"{part}_test"])
        assert r["n_genuine"] > 0 and r["n_impostor"] > 0
        assert 0.5 < r["auc"] <= 1 and 0.5 < r["val_auc"] <= 1 and 0 <= r["eer"] < 0.5
        assert 0 <= r["far"] <= 1 and 0 <= r["frr"] <= 1 and 0 < r["accuracy"] <= 1
        ci = faces.bootstrap_verification(emb[f"{part}_test"], lab[f"{part}_test"], n_boot=5)
        assert ci["auc"][0] <= ci["auc"][1] and ci["eer"][0] <= ci["eer"][1]
