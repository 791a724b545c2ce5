#!/usr/bin/python
"""Ansible module: compare Prometheus metrics with thresholds, report the measured values.

Reads a Prometheus text endpoint (``/metrics``) or queries a Prometheus HTTP
API (``/api/v1/query``) and evaluates every check in one call, so a failing
play shows one message with every measured value, e.g.
``error_rate=0.12 exceeds 0.01``. The parsing and the quantile estimate are
plain functions, unit-tested in tests/roles/test_prometheus_check.py.
"""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: prometheus_check
short_description: Check Prometheus metrics against thresholds
description:
  - Reads a Prometheus text exposition endpoint, or queries the Prometheus HTTP API,
    and compares each measured value with its threshold.
  - A check measures one of C(metric) (sum of the matching series), C(ratio)
    (numerator / denominator, for example errors / requests), C(histogram) with
    C(quantile) (the histogram_quantile estimate over the C(_bucket) series) or
    C(query) (a PromQL query through C(prometheus_url)).
  - Fails when any check breaches its threshold, with the measured values in the message.
options:
  checks:
    description: The checks to evaluate, in order.
    type: list
    elements: dict
    required: true
    suboptions:
      name:
        description: Name shown in the message (C(error_rate=0.12 exceeds 0.01)).
        type: str
        required: true
      url:
        description: Text endpoint for this check (default the module's O(url)).
        type: str
      metric:
        description:
          - Selector, e.g. C(http_requests_total{code=~"5.."}).
          - The value is the sum of the matching series.
        type: str
      ratio:
        description:
          - Dict with C(numerator) and C(denominator) selectors.
          - The value is 0 when the denominator is 0.
        type: dict
      histogram:
        description: Histogram name with optional label matchers (without C(_bucket)).
        type: str
      quantile:
        description: Quantile for O(checks[].histogram), between 0 and 1.
        type: float
      query:
        description:
          - PromQL query sent to O(prometheus_url).
          - It must return a scalar or exactly one series.
        type: str
      below:
        description: The value must be strictly lower than this.
        type: float
      above:
        description: The value must be strictly greater than this.
        type: float
  url:
    description: Default Prometheus text endpoint (for example http://127.0.0.1:8080/metrics).
    type: str
  prometheus_url:
    description: Base URL of a Prometheus server (for O(checks[].query)).
    type: str
  timeout:
    description: Seconds to wait for each HTTP request.
    type: int
    default: 10
  validate_certs:
    description: Verify TLS certificates.
    type: bool
    default: true
author: procc maintainers (@procc)
"""

EXAMPLES = r"""
- name: Error rate and p99 latency of the demo backend
  prometheus_check:
    url: http://127.0.0.1:8080/metrics
    checks:
      - name: error_rate
        ratio:
          numerator: demo_backend_http_errors_total
          denominator: demo_backend_http_requests_total
        below: 0.01
      - name: p99_latency_seconds
        histogram: demo_backend_http_request_duration_seconds
        quantile: 0.99
        below: 1.0
"""

RETURN = r"""
measured:
  description: Measured value of each check, by name.
  type: dict
  returned: always
results:
  description: One entry per check with name, value, threshold, ok and message.
  type: list
  returned: always
msg:
  description: The failing checks (or all checks when every one passed), with their values.
  type: str
  returned: always
"""

# Imports after DOCUMENTATION/EXAMPLES/RETURN, as ansible-test validate-modules wants.
import json
import math
import re
from typing import Any, Dict, Tuple  # noqa: UP035 - see Sample below
from urllib.parse import urlencode

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.urls import open_url

_NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
_LABEL = re.compile(r'\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)\s*"((?:[^"\\]|\\.)*)"\s*(?:,|$)')
# name{labels} value [timestamp] [# exemplar (OpenMetrics)]
_SAMPLE = re.compile(rf"^({_NAME})(?:\{{(.*?)\}})?\s+(\S+)(?:\s+[-0-9.eE+]+)?\s*(?:#\s.*)?$")
_SELECTOR = re.compile(rf"^\s*({_NAME})\s*(?:\{{(.*)\}})?\s*$")

# typing's aliases, not tuple[...]: these run at import, on target Pythons
# older than 3.9 too (annotations are never evaluated, thanks to __future__).
Sample = Tuple[str, Dict[str, str], float]  # noqa: UP006
Matcher = Tuple[str, str, str]  # noqa: UP006


class CheckError(Exception):
    """A check that cannot be measured (bad selector, missing metric, unreachable endpoint)."""


def _unescape(value: str) -> str:
    return value.replace("\\n", "\n").replace('\\"', '"').replace("\\\\", "\\")


def _parse_labels(text: str) -> list[Matcher]:
    matchers: list[Matcher] = []
    pos = 0
    text = text.strip()
    while pos < len(text):
        m = _LABEL.match(text, pos)
        if m is None:
            raise CheckError(f"cannot parse labels: {{{text}}}")
        matchers.append((m.group(1), m.group(2), _unescape(m.group(3))))
        pos = m.end()
    return matchers


def parse_selector(selector: str) -> tuple[str, list[Matcher]]:
    """Split ``name{label="v",other=~"re"}`` into the name and its label matchers."""
    m = _SELECTOR.match(selector)
    if m is None:
        raise CheckError(f"invalid selector: {selector}")
    return m.group(1), _parse_labels(m.group(2) or "")


def parse_text(text: str, skipped: list[str] | None = None) -> list[Sample]:
    """Parse the Prometheus text exposition format into (name, labels, value) samples.

    A line that is not a sample (bad labels, a value that is not a number)
    is left out and ``skipped`` receives ``"line N: text"`` for it; the module
    fails on any (see ``_Fetcher.samples``).
    """
    samples: list[Sample] = []
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        m = _SAMPLE.match(line)
        try:
            if m is None:
                raise CheckError("not a sample")
            labels = {k: v for k, _op, v in _parse_labels(m.group(2) or "")}
            samples.append((m.group(1), labels, float(m.group(3))))
        except (CheckError, ValueError):
            if skipped is not None:
                skipped.append(f"line {number}: {line[:120]}")
    return samples


def _matches(labels: dict[str, str], matchers: list[Matcher]) -> bool:
    for key, op, want in matchers:
        have = labels.get(key, "")
        if op == "=" and have != want:
            return False
        if op == "!=" and have == want:
            return False
        if op == "=~" and re.fullmatch(want, have) is None:
            return False
        if op == "!~" and re.fullmatch(want, have) is not None:
            return False
    return True


def select(samples: list[Sample], selector: str) -> list[Sample]:
    """The samples a selector matches."""
    name, matchers = parse_selector(selector)
    return [s for s in samples if s[0] == name and _matches(s[1], matchers)]


def metric_sum(samples: list[Sample], selector: str, *, required: bool = True) -> float:
    """Sum of the matching series; a missing required metric is an error, else 0."""
    found = select(samples, selector)
    if not found and required:
        raise CheckError(f"no series matches {selector}")
    return math.fsum(s[2] for s in found)


def ratio(samples: list[Sample], numerator: str, denominator: str) -> float:
    """numerator / denominator over summed series (0 when nothing was counted)."""
    den = metric_sum(samples, denominator)
    num = metric_sum(samples, numerator, required=False)
    return num / den if den else 0.0


def histogram_quantile(q: float, buckets: list[tuple[float, float]]) -> float:
    """Estimate quantile ``q`` from cumulative (upper bound, count) buckets, like PromQL.

    Linear interpolation inside the bucket holding the rank; a rank in the
    +Inf bucket answers the highest finite bound; no observations answer 0.
    """
    if not 0.0 <= q <= 1.0:
        raise CheckError(f"quantile must be between 0 and 1, got {q}")
    buckets = sorted(buckets)
    if not buckets or not math.isinf(buckets[-1][0]):
        raise CheckError("histogram has no +Inf bucket")
    total = buckets[-1][1]
    if total == 0:
        return 0.0
    rank = q * total
    prev_bound, prev_count = 0.0, 0.0
    for bound, count in buckets:
        if count >= rank:
            if math.isinf(bound):
                return prev_bound
            if count == prev_count:
                return bound
            return prev_bound + (bound - prev_bound) * (rank - prev_count) / (count - prev_count)
        prev_bound, prev_count = bound, count
    return prev_bound


def histogram_value(samples: list[Sample], selector: str, q: float) -> float:
    """Quantile of a histogram, summing the ``_bucket`` series of every label set by ``le``."""
    name, matchers = parse_selector(selector)
    by_le: dict[float, float] = {}
    for sname, labels, value in samples:
        if sname == name + "_bucket" and "le" in labels and _matches(labels, matchers):
            le = float(labels["le"])
            by_le[le] = by_le.get(le, 0.0) + value
    if not by_le:
        raise CheckError(f"no histogram buckets match {selector}")
    return histogram_quantile(q, list(by_le.items()))


def api_value(payload: dict[str, Any], query: str) -> float:
    """The single value of a /api/v1/query answer (scalar or one-series vector)."""
    if payload.get("status") != "success":
        raise CheckError(f"query {query!r} failed: {payload.get('error', payload.get('status'))}")
    data = payload.get("data", {})
    kind, result = data.get("resultType"), data.get("result")
    if kind == "scalar":
        return float(result[1])
    if kind == "vector":
        if len(result) != 1:
            raise CheckError(
                f"query {query!r} returned {len(result)} series, expected 1 (aggregate it)"
            )
        return float(result[0]["value"][1])
    raise CheckError(f"query {query!r} returned a {kind}, expected a scalar or a vector")


def fmt(value: float) -> str:
    """Short, stable rendering of a measured value or a threshold."""
    return f"{value:.6g}"


def judge(name: str, value: float, below: float | None, above: float | None) -> tuple[bool, str]:
    """Compare one value with its thresholds and say so in words."""
    if below is not None and not value < below:
        return False, f"{name}={fmt(value)} exceeds {fmt(below)}"
    if above is not None and not value > above:
        return False, f"{name}={fmt(value)} is not above {fmt(above)}"
    limits = [
        f"< {fmt(below)}" if below is not None else "",
        f"> {fmt(above)}" if above is not None else "",
    ]
    return True, f"{name}={fmt(value)} ok ({' and '.join(x for x in limits if x)})"


class _Fetcher:
    """HTTP reads with one cache per URL, so several checks cost one request."""

    def __init__(self, timeout: int, validate_certs: bool) -> None:
        self.timeout = timeout
        self.validate_certs = validate_certs
        self.cache: dict[str, list[Sample]] = {}

    def get(self, url: str) -> str:
        try:
            resp = open_url(url, timeout=self.timeout, validate_certs=self.validate_certs)
            return str(resp.read().decode("utf-8"))
        except Exception as exc:  # urllib, socket and TLS errors alike
            raise CheckError(f"cannot read {url}: {exc}") from exc

    def samples(self, url: str) -> list[Sample]:
        if url not in self.cache:
            skipped: list[str] = []
            samples = parse_text(self.get(url), skipped)
            if skipped:
                # Loud, never a guess: a scrape procc cannot read fails every check on it.
                raise CheckError(f"cannot parse {url}: {len(skipped)} line(s) are not Prometheus samples,"
                                 f" first {skipped[0]}")
            self.cache[url] = samples
        return self.cache[url]


def measure(check: dict[str, Any], fetch: _Fetcher, url: str | None, prom: str | None) -> float:
    """The value of one check."""
    if check.get("query"):
        if not prom:
            raise CheckError("a query check needs prometheus_url")
        api = prom.rstrip("/") + "/api/v1/query?" + urlencode({"query": check["query"]})
        try:
            payload = json.loads(fetch.get(api))
        except ValueError as exc:
            raise CheckError(f"query {check['query']!r}: invalid JSON answer") from exc
        return api_value(payload, check["query"])
    src = check.get("url") or url
    if not src:
        raise CheckError("no metrics url (set url on the check or the module)")
    samples = fetch.samples(src)
    if check.get("ratio"):
        r = check["ratio"]
        if not r.get("numerator") or not r.get("denominator"):
            raise CheckError("ratio needs numerator and denominator")
        return ratio(samples, r["numerator"], r["denominator"])
    if check.get("histogram"):
        if check.get("quantile") is None:
            raise CheckError("histogram needs quantile")
        return histogram_value(samples, check["histogram"], float(check["quantile"]))
    if check.get("metric"):
        return metric_sum(samples, check["metric"])
    raise CheckError("one of metric, ratio, histogram or query is required")


# The same options as DOCUMENTATION (tests/roles/test_prometheus_check.py compares them).
ARGUMENT_SPEC: dict[str, Any] = {
    "checks": {
        "type": "list", "elements": "dict", "required": True,
        "options": {
            "name": {"type": "str", "required": True},
            "url": {"type": "str"},
            "metric": {"type": "str"},
            "ratio": {"type": "dict"},
            "histogram": {"type": "str"},
            "quantile": {"type": "float"},
            "query": {"type": "str"},
            "below": {"type": "float"},
            "above": {"type": "float"},
        },
    },
    "url": {"type": "str"},
    "prometheus_url": {"type": "str"},
    "timeout": {"type": "int", "default": 10},
    "validate_certs": {"type": "bool", "default": True},
}


def main() -> None:
    """Module entry point."""
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    p = module.params
    fetch = _Fetcher(p["timeout"], p["validate_certs"])
    results: list[dict[str, Any]] = []
    values: dict[str, float] = {}
    for check in p["checks"]:
        name = str(check.get("name") or "metric")
        below = None if check.get("below") is None else float(check["below"])
        above = None if check.get("above") is None else float(check["above"])
        try:
            if below is None and above is None:
                raise CheckError("set below or above")
            value = measure(check, fetch, p["url"], p["prometheus_url"])
        except CheckError as exc:
            results.append({"name": name, "value": None, "ok": False, "msg": f"{name}: {exc}"})
            continue
        ok, msg = judge(name, value, below, above)
        values[name] = value
        results.append(
            {"name": name, "value": value, "below": below, "above": above, "ok": ok, "msg": msg}
        )
    failed = [r["msg"] for r in results if not r["ok"]]
    msg = "; ".join(failed or [r["msg"] for r in results])
    if failed:
        module.fail_json(msg=msg, measured=values, results=results)
    module.exit_json(changed=False, msg=msg, measured=values, results=results)


if __name__ == "__main__":
    main()
