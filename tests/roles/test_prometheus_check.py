"""Unit tests of the health role's prometheus_check module: parsing, selection, quantiles, messages."""

from __future__ import annotations

import ast
import importlib.util
import math
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import yaml

MODULE = Path(__file__).resolve().parents[2] / "plugins" / "modules" / "prometheus_check.py"


def _load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("prometheus_check", MODULE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


pc = _load()

TEXT = r"""
# HELP http_requests_total Requests.
# TYPE http_requests_total counter
http_requests_total{path="/items",code="200"} 90
http_requests_total{path="/items",code="500"} 10
http_requests_total{path="/health",code="200"} 100 1700000000000
http_errors_total{path="/items"} 10
weird_total{msg="a \"quoted\", comma",other="x"} 3
up 1
lat_bucket{path="/a",le="0.1"} 40
lat_bucket{path="/a",le="0.5"} 80
lat_bucket{path="/a",le="+Inf"} 100
lat_bucket{path="/b",le="0.1"} 10
lat_bucket{path="/b",le="0.5"} 10
lat_bucket{path="/b",le="+Inf"} 100
"""


def test_parse_text_reads_labels_escapes_and_timestamps() -> None:
    samples = pc.parse_text(TEXT)
    assert ("up", {}, 1.0) in samples
    assert ("http_requests_total", {"path": "/health", "code": "200"}, 100.0) in samples
    assert ("weird_total", {"msg": 'a "quoted", comma', "other": "x"}, 3.0) in samples


@pytest.mark.parametrize(
    ("selector", "total"),
    [
        ("http_requests_total", 200.0),
        ('http_requests_total{path="/items"}', 100.0),
        ('http_requests_total{code!="200"}', 10.0),
        ('http_requests_total{code=~"5.."}', 10.0),
        ('http_requests_total{path!~"/health|/x"}', 100.0),
    ],
)
def test_metric_sum_over_label_matchers(selector: str, total: float) -> None:
    assert pc.metric_sum(pc.parse_text(TEXT), selector) == total


def test_missing_metric_is_an_error_but_a_missing_numerator_is_zero() -> None:
    samples = pc.parse_text(TEXT)
    with pytest.raises(pc.CheckError, match="no series matches nope_total"):
        pc.metric_sum(samples, "nope_total")
    assert pc.ratio(samples, "nope_total", "http_requests_total") == 0.0
    assert pc.ratio(samples, 'http_errors_total{path="/items"}', 'http_requests_total{path="/items"}') == 0.1


def test_histogram_quantile_interpolates_like_promql() -> None:
    buckets = [(0.1, 50.0), (0.5, 90.0), (1.0, 100.0), (math.inf, 100.0)]
    assert pc.histogram_quantile(0.5, buckets) == pytest.approx(0.1)
    assert pc.histogram_quantile(0.9, buckets) == pytest.approx(0.5)
    assert pc.histogram_quantile(0.95, buckets) == pytest.approx(0.75)
    assert pc.histogram_quantile(0.25, buckets) == pytest.approx(0.05)
    # A rank in the +Inf bucket answers the highest finite bound; no observations answer 0.
    assert pc.histogram_quantile(0.99, [(0.1, 10.0), (math.inf, 20.0)]) == pytest.approx(0.1)
    assert pc.histogram_quantile(0.99, [(0.1, 0.0), (math.inf, 0.0)]) == 0.0


def test_histogram_value_sums_series_by_le_and_filters_labels() -> None:
    samples = pc.parse_text(TEXT)
    # /a and /b together: le 0.1 -> 50, 0.5 -> 90, +Inf -> 200; p50 (rank 100) is in +Inf.
    assert pc.histogram_value(samples, "lat", 0.5) == pytest.approx(0.5)
    assert pc.histogram_value(samples, 'lat{path="/a"}', 0.5) == pytest.approx(0.1 + 0.4 * 10 / 40)
    with pytest.raises(pc.CheckError, match="no histogram buckets"):
        pc.histogram_value(samples, "nope", 0.5)


def test_api_value_accepts_scalar_and_single_series() -> None:
    assert pc.api_value({"status": "success", "data": {"resultType": "scalar", "result": [1, "0.5"]}}, "q") == 0.5
    one = {"status": "success", "data": {"resultType": "vector", "result": [{"metric": {}, "value": [1, "2"]}]}}
    assert pc.api_value(one, "q") == 2.0
    two = {"status": "success", "data": {"resultType": "vector", "result": [{}, {}]}}
    with pytest.raises(pc.CheckError, match="returned 2 series"):
        pc.api_value(two, "q")
    with pytest.raises(pc.CheckError, match="bad_data"):
        pc.api_value({"status": "error", "error": "bad_data"}, "q")


def test_judge_says_the_measured_value() -> None:
    assert pc.judge("error_rate", 0.12, 0.01, None) == (False, "error_rate=0.12 exceeds 0.01")
    assert pc.judge("requests", 0.0, None, 5.0) == (False, "requests=0 is not above 5")
    assert pc.judge("p99", 0.2, 1.0, 0.0) == (True, "p99=0.2 ok (< 1 and > 0)")


def test_invalid_selector_is_reported() -> None:
    with pytest.raises(pc.CheckError, match=r"cannot parse labels: \{label=unquoted\}"):
        pc.parse_selector("bad{label=unquoted}")


def test_lines_that_are_not_samples_are_skipped_and_reported() -> None:
    skipped: list[str] = []
    samples = pc.parse_text('ok_total 1\nbad_total{code="5"x} 2\nnan_total abc\n\nalso_ok 2\n', skipped)
    assert [s[0] for s in samples] == ["ok_total", "also_ok"]
    assert skipped == ['line 2: bad_total{code="5"x} 2', "line 3: nan_total abc"]


def _spec_of(options: dict[str, Any]) -> dict[str, Any]:
    """DOCUMENTATION options reduced to what an argument_spec says."""
    out: dict[str, Any] = {}
    for name, doc in options.items():
        entry = {k: doc[k] for k in ("type", "elements", "required", "default") if k in doc}
        if doc.get("required") is False:
            del entry["required"]
        if "suboptions" in doc:
            entry["options"] = _spec_of(doc["suboptions"])
        out[name] = entry
    return out


def test_documentation_matches_the_argument_spec() -> None:
    doc = yaml.safe_load(pc.DOCUMENTATION)
    assert _spec_of(doc["options"]) == pc.ARGUMENT_SPEC


_GENERIC = {"tuple", "list", "dict", "set", "frozenset", "type"}


def test_nothing_evaluated_at_import_needs_python_3_9() -> None:
    """``tuple[...]`` outside annotations runs at import and fails before Python 3.9 (targets may be older)."""
    tree = ast.parse(MODULE.read_text(encoding="utf-8"))
    evaluated: list[ast.AST] = []
    for node in tree.body:  # module level: function bodies run later, annotations never (__future__)
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            evaluated.extend(node.decorator_list)
            if isinstance(node, ast.FunctionDef):
                evaluated.extend(node.args.defaults)
            continue
        if isinstance(node, ast.AnnAssign):
            if node.value is not None:
                evaluated.append(node.value)
            continue
        evaluated.append(node)
    bad = [f"line {n.lineno}: {ast.unparse(n)}" for root in evaluated for n in ast.walk(root)
           if isinstance(n, ast.Subscript) and isinstance(n.value, ast.Name) and n.value.id in _GENERIC]
    assert bad == []
    assert "from __future__ import annotations" in MODULE.read_text(encoding="utf-8")


def test_exemplars_and_timestamps_are_samples() -> None:
    skipped: list[str] = []
    text = 'lat_bucket{le="0.1"} 10 # {trace_id="abc"} 0.05 1.6e9\nup 1 1700000000000\n'
    assert pc.parse_text(text, skipped) == [("lat_bucket", {"le": "0.1"}, 10.0), ("up", {}, 1.0)]
    assert skipped == []


def test_a_scrape_with_unparsable_lines_fails_every_check_on_it(monkeypatch: pytest.MonkeyPatch) -> None:
    fetch = pc._Fetcher(5, True)
    monkeypatch.setattr(fetch, "get", lambda url: "ok_total 1\nbroken{ 2\n")  # the HTTP read, not the parser
    with pytest.raises(pc.CheckError, match=r"cannot parse http://x/metrics: 1 line\(s\).*line 2: broken\{ 2"):
        pc.measure({"name": "n", "metric": "ok_total", "below": 5}, fetch, "http://x/metrics", None)
