"""The model picker's plain data (views/models.py) in CPython: rows from a real models/index.json
against the manifests it was built from, which model a link resolves to, the device rule before a
download, and which opened files are the model folder."""

import json
import shutil
import sys

import pytest

from bench.targets import GPT2_SMALL_TARGETS, SITE_MODEL_TARGETS
from pyexplainer.manifest import ModelFileError
from pyexplainer.messages import text
from pyexplainer.views.models import (
    COMFORTABLE_SHARE,
    GIB,
    MEMORY_POINTS,
    ModelRow,
    download_advice,
    estimated_tab_bytes,
    fits,
    model_folder,
    model_rows,
    quality_facts,
    resolve_model,
    rows_for_locale,
    training_data,
)
from pyexplainer.views.permalink import query_model
from tests.conftest import ROOT

sys.path.insert(0, str(ROOT / "build"))
import make_site  # noqa: E402

MB = 10**6


def renamed(export, folder, name, extra=None):
    """A copy of an export whose manifest gives another name (and `extra` fields)."""
    shutil.copytree(export, folder)
    manifest = json.loads((folder / "manifest.json").read_text())
    (folder / "manifest.json").write_text(json.dumps({**manifest, "name": name, **(extra or {})}))
    return folder


@pytest.fixture(scope="module")
def index(tiny_int4, tiny_int8, tmp_path_factory):
    """models/index.json of a site with both tiny exports, one of them marked as from the hub."""
    tmp = tmp_path_factory.mktemp("index")
    hub = {"source": {"kind": "hugging face hub", "id": "openai-community/gpt2"}}
    folders = [
        renamed(tiny_int4, tmp / "a", "small"),
        renamed(tiny_int8, tmp / "b", "large", hub),
    ]
    make_site.copy_models(tmp / "site", folders)
    return json.loads((tmp / "site" / "models" / "index.json").read_text()), folders


def test_rows_say_what_each_manifest_says(index):
    index, folders = index
    rows = model_rows(index, stored={"large"}, running="small")
    assert [r.name for r in rows] == ["small", "large"]
    for row, folder in zip(rows, folders, strict=True):
        manifest = json.loads((folder / "manifest.json").read_text())
        c = manifest["config"]
        assert (row.n_layer, row.n_head, row.n_embd, row.n_positions) == (
            c["n_layer"],
            c["n_head"],
            c["n_embd"],
            c["n_positions"],
        )
        assert row.parameters == manifest["parameters"]
        assert row.quantization == manifest["quantization"]["weights"]
        assert row.bytes == sum(p.stat().st_size for p in folder.iterdir())
        held_out = manifest["fidelity"]["quantized_vs_fp32"]["held_out"]
        assert row.fidelity["top1"] == held_out["top1_agreement_vs_fp32"]
        assert row.fidelity["perplexity"] == held_out["perplexity_quantized"]
    assert [(r.running, r.stored) for r in rows] == [(True, False), (False, True)]
    assert [r.hub_id for r in rows] == ["", "openai-community/gpt2"]  # no local path published
    assert "source" not in json.dumps(index)


def test_the_quality_facts_are_the_exports_own_measures(index):
    """The model line and the picker's row both say them (the fidelity, then the perplexity)."""
    index, folders = index
    row = model_rows(index, stored=set(), running="")[0]
    held_out = json.loads((folders[0] / "manifest.json").read_text())["fidelity"]
    held_out = held_out["quantized_vs_fp32"]["held_out"]
    card = {"held_out": {"perplexity": 77.4}, "unigram_baseline": {"perplexity": 1059.6}}
    [(fidelity_key, fidelity), (perplexity_key, perplexity)] = quality_facts(
        "int4", row.fidelity, card
    )
    assert (fidelity_key, perplexity_key) == ("ui.model_fidelity", "ui.model_perplexity")
    assert fidelity["quantization"] == "int4"
    assert (fidelity["top1"], fidelity["kl"], fidelity["positions"]) == (
        held_out["top1_agreement_vs_fp32"],
        held_out["mean_kl_nats_vs_fp32"],
        held_out["positions"],
    )
    assert perplexity == {"perplexity": 77.4, "baseline": 1059.6}
    assert text(perplexity_key, **perplexity) == "held-out perplexity 77 (unigram baseline 1060)"
    # fp32 has no fidelity; a card without a held-out measure (a hub checkpoint's) no perplexity
    assert quality_facts("fp32", None, {"sources": []}) == []


def test_training_data_from_the_model_card_or_the_hub_id():
    card = {
        "held_out": {"perplexity": 77.4},
        "tokens_seen": 8_192_000,
        "sources": [{"name": "a", "tokens": 1_000_000}, {"name": "b", "tokens": 500_000}],
    }
    assert training_data(row(training=card)) == (
        "models.training.sources",
        {"sources": 2, "tokens_m": 1.5, "seen_m": 8.192},
    )
    assert training_data(row(hub_id="distilbert/distilgpt2"))[0] == "models.training.openwebtext"
    assert training_data(row(hub_id="someone/else")) is None


def test_the_chinese_interface_proposes_the_models_that_read_chinese_first():
    rows = [
        row("gpt2", language="en"),
        row("demo"),
        row("uer", language="zh"),
        row("b", language="zh-Hans"),
    ]
    assert [r.name for r in rows_for_locale(rows, "zh")] == ["uer", "b", "gpt2", "demo"]
    assert [r.name for r in rows_for_locale(rows, "zh-CN")] == ["uer", "b", "gpt2", "demo"]
    assert [r.name for r in rows_for_locale(rows, "en")] == ["gpt2", "demo", "uer", "b"]


def test_language_and_example_prompts_come_from_the_manifest(tiny_int4, tmp_path):
    card = {"language": "zh", "example_prompts": ["今天天气很好，", "我们的老师"]}
    make_site.copy_models(tmp_path / "site", [renamed(tiny_int4, tmp_path / "zh", "zh", card)])
    index = json.loads((tmp_path / "site" / "models" / "index.json").read_text())
    (zh,) = model_rows(index, stored=set(), running="")
    assert (zh.language, zh.example_prompts) == ("zh", ("今天天气很好，", "我们的老师"))
    assert training_data(row(hub_id="uer/gpt2-chinese-cluecorpussmall"))[0] == (
        "models.training.cluecorpussmall"
    )


def test_a_link_to_a_model_the_site_lacks_resolves_to_the_default(index):
    index, _ = index
    assert resolve_model(index, "large")[0]["name"] == "large"
    assert resolve_model(index, "") == (resolve_model(index, "small")[0], "")
    entry, unknown = resolve_model(index, "gpt3")
    assert (entry["name"], unknown) == (index["default"], "gpt3")
    assert query_model("?prompt=Hi&model=large") == "large"
    assert query_model("?model=large") == "large"  # with no state around it
    assert query_model("?prompt=Hi") == ""


def test_the_memory_estimate_runs_through_the_benchmarks_targets():
    (demo, demo_tab), (gpt2, gpt2_tab) = MEMORY_POINTS
    assert demo_tab == SITE_MODEL_TARGETS["peak_renderer_bytes"]
    assert gpt2_tab == GPT2_SMALL_TARGETS["peak_renderer_bytes"]
    model_file = GPT2_SMALL_TARGETS["model_file_bytes"]
    assert gpt2 < model_file + 3 * MB  # the model's budget, and the tokenizer's 1.5 MB
    assert estimated_tab_bytes(demo) == pytest.approx(demo_tab)
    assert estimated_tab_bytes(gpt2) == pytest.approx(gpt2_tab)
    assert 400 * MB < estimated_tab_bytes(0) < 550 * MB  # the bare page: Pyodide, numpy, ort


@pytest.mark.parametrize(
    "model_bytes, memory, expected",
    [
        (90 * MB, 4, True),  # GPT-2 small on a 4 GB device (int8: no float32 weights)
        (90 * MB, 3, False),
        (90 * MB, 8, True),
        (60 * MB, 4, True),  # distilgpt2's size
        (13 * MB, 2, False),  # the demo on a 2 GB phone
        (13 * MB, 4, True),
        (90 * MB, None, True),  # the browser does not say: no rule
    ],
)
def test_the_device_rule(model_bytes, memory, expected):
    assert fits(model_bytes, memory) is expected
    if memory:
        tab = estimated_tab_bytes(model_bytes)
        assert (tab <= COMFORTABLE_SHARE * memory * GIB) is expected


def row(name="m", size=10 * MB, stored=False, **fields):
    values = dict(
        name=name,
        n_layer=1,
        n_head=1,
        n_embd=8,
        n_positions=16,
        parameters=1,
        bytes=size,
        quantization="int4",
        fidelity=None,
        training=None,
        hub_id="",
        language="",
        example_prompts=(),
        stored=stored,
        running=False,
    )
    return ModelRow(**{**values, **fields})


SITE = [row("demo", 13 * MB), row("gpt2", 90 * MB), row("distilgpt2", 60 * MB)]


def test_too_big_for_the_device_offers_the_largest_model_that_fits():
    advice = download_advice(SITE, "gpt2", device_memory_gib=3.5, save_data=False)
    assert (advice.reason, advice.alternative, advice.bytes) == ("memory", "distilgpt2", 90 * MB)
    on_3gb = download_advice(SITE, "gpt2", device_memory_gib=3, save_data=False)
    assert on_3gb.alternative == "demo"
    assert advice.device_bytes == 3.5 * GIB and advice.estimate == estimated_tab_bytes(90 * MB)
    assert download_advice(SITE, "distilgpt2", device_memory_gib=3.5, save_data=False) is None
    assert download_advice(SITE, "gpt2", device_memory_gib=4, save_data=False) is None  # SPEC
    assert download_advice(SITE, "gpt2", device_memory_gib=8, save_data=False) is None
    assert download_advice(SITE, "gpt2", device_memory_gib=None, save_data=False) is None
    tiny_device = download_advice(SITE, "demo", device_memory_gib=0.5, save_data=False)
    assert (tiny_device.reason, tiny_device.alternative) == ("memory", "")  # nothing smaller


def test_save_data_offers_a_smaller_model_unless_no_download_is_needed():
    advice = download_advice(SITE, "gpt2", device_memory_gib=None, save_data=True)
    assert (advice.reason, advice.alternative) == ("save_data", "demo")
    assert download_advice(SITE, "demo", device_memory_gib=None, save_data=True) is None
    stored = [*SITE[:1], row("gpt2", 90 * MB, stored=True), SITE[2]]
    assert download_advice(stored, "gpt2", device_memory_gib=None, save_data=True) is None
    # both: the device's memory first
    both = download_advice(SITE, "gpt2", device_memory_gib=3, save_data=True)
    assert both.reason == "memory"


def test_the_model_folder_among_opened_files():
    picked = ["export/manifest.json", "export/model.onnx", "export/vocab.json", "export/notes.txt"]
    assert model_folder(picked) == (
        "export",
        {
            "manifest.json": "export/manifest.json",
            "model.onnx": "export/model.onnx",
            "vocab.json": "export/vocab.json",
            "notes.txt": "export/notes.txt",
        },
    )
    nested = ["models/gpt2/manifest.json", "models/gpt2/model.onnx", "models/README.md"]
    assert model_folder(nested)[0] == "models/gpt2"
    assert model_folder(["manifest.json", "model.onnx"])[0] == ""  # dropped files, no folder
    with pytest.raises(ModelFileError, match=r"no manifest.json among the 2 file\(s\) opened"):
        model_folder(["x/model.onnx", "x/vocab.json"])
    with pytest.raises(ModelFileError, match=r"2 folders hold a manifest.json \(a, b\)"):
        model_folder(["a/manifest.json", "b/manifest.json"])
