"""The storage line's plain data (views/storage.py) in CPython: which service-worker reports are
the browser refusing to store, and what the model information says in each case, in both
languages."""

import pytest

from pyexplainer.messages import MESSAGES, text
from pyexplainer.views.storage import Space, StoreReport, refused, storage_line

SITE = "https://teacher.example/course/"
QUOTA = "QuotaExceededError: The quota has been exceeded."


def line(**given):
    values = dict(
        controlled=True,
        refusals=[],
        model="demo",
        model_stored=False,
        freed=None,
        space=Space(files=40, bytes=71_200_000, quota=300e6),
    )
    return storage_line(**{**values, **given})


def test_a_full_quota_is_a_refusal_and_a_later_put_of_the_same_file_clears_it():
    model, wasm = SITE + "models/demo/model.onnx", SITE + "pyodide/pyodide.asm.wasm"
    reports = [StoreReport(wasm, QUOTA), StoreReport(model, QUOTA), StoreReport(wasm, "")]
    assert refused(reports) == [StoreReport(model, QUOTA)]
    assert refused(reports + [StoreReport(model, "")]) == []


@pytest.mark.parametrize("error", ["TypeError: network error", "AbortError: aborted"])
def test_a_body_that_broke_off_is_the_downloads_failure_not_the_storages(error):
    assert refused([StoreReport(SITE + "models/demo/model.onnx", error)]) == []


def test_refused_storage_names_the_file_and_the_browsers_error_over_the_model_being_stored():
    refusals = [StoreReport(SITE + "models/demo/model.onnx", QUOTA)] * 2
    state, sentences = line(refusals=refusals, model_stored=True)
    assert state == "refused"
    [(key, values)] = sentences  # no quota: the browser just said what it allows
    said = text(key, **values)
    assert said.startswith("Offline use is not available on this device")
    assert "/course/models/demo/model.onnx" in said and QUOTA in said
    assert "71.2 MB" in said and "40 files" in said


@pytest.mark.parametrize(
    ("given", "state", "says"),
    [
        ({"model_stored": True}, "stored", "demo is stored for offline use"),
        ({}, "storing", "Storing demo for offline use: 71.2 MB"),
        ({"model": ""}, "kept", "This site keeps 71.2 MB"),  # a folder from disk
        ({"controlled": False}, "unavailable", "Offline use is not available in this browser"),
        ({"controlled": False, "refusals": [StoreReport(SITE, QUOTA)]}, "unavailable", "window"),
    ],
)
def test_each_state_says_what_the_device_keeps_and_the_quota_beside_it(given, state, says):
    shown_state, sentences = line(**given)
    assert shown_state == state
    assert says in text(sentences[0][0], **sentences[0][1])
    quota = [text(key, **values) for key, values in sentences[1:]]
    # no worker: the quota is beside the point
    assert quota == ([] if state == "unavailable" else ["The browser allows this site 300 MB."])


@pytest.mark.parametrize(
    "given", [{"model_stored": True}, {}, {"model": ""}, {"refusals": [StoreReport(SITE, QUOTA)]}]
)
def test_before_the_caches_are_measured_the_line_claims_no_size(given):
    """The page draws the picker (and this line) before its first measure ends: a stored model
    must not read "keeps 0.0 MB (0 files)" meanwhile (seen on a second visit, in CI)."""
    state, sentences = line(space=None, **given)
    assert (state, [key for key, _ in sentences]) == ("measuring", ["storage.measuring"])
    assert text("storage.measuring") == "Measuring what this site keeps on this device…"


def test_freed_says_how_much_until_something_is_stored_again():
    emptied = Space(files=0, bytes=0, quota=300e6)
    state, sentences = line(freed=71_200_000, space=emptied)
    assert state == "freed"
    assert text(sentences[0][0], **sentences[0][1]).startswith("Freed 71.2 MB")
    state, _ = line(freed=71_200_000, model_stored=True)  # stored again since (a later fetch)
    assert state == "stored"


def test_no_quota_known_no_quota_sentence():
    _, sentences = line(space=Space(files=3, bytes=1_000, quota=None))
    assert [key for key, _ in sentences] == ["storage.storing"]


@pytest.mark.parametrize("locale", sorted(MESSAGES))
def test_every_state_reads_in_every_locale(locale):
    refusals = [StoreReport(SITE + "models/demo/model.onnx", QUOTA)]
    for given in [
        {"refusals": refusals},
        {"model_stored": True},
        {},
        {"controlled": False},
        {"space": None},
    ]:
        for key, values in line(**given)[1]:
            assert text(key, locale, **values)
