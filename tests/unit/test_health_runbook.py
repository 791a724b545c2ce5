"""The runbook's health checks: each a command a person pastes (curl, bash /dev/tcp, the command), in es and en.

The golden pins the whole final-validation section; the other tests pin
what must hold whatever the wording: a secret is its variable, never a
value, and hostile text stays one quoted word.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from compiler import runbook
from compiler.i18n import Lang
from compiler.parse import parse_text
from tests.support.golden import REPO, check_golden

CLEAN = (Path(__file__).parent.parent / "lint" / "fixtures" / "clean.yml").read_text(encoding="utf-8")
HEALTH = '    - {url: "http://localhost:8080/health", status: 200}\n'
CHECKS = """\
    - name: API interna
      url: "https://api.internal:{{ api_port }}/v1/health"
      method: POST
      ca_path: /etc/ssl/internal-ca.pem
      headers: {Authorization: "Bearer {{ api_token }}", X-Note: "it's \\"$(id)\\" `id`"}
      body: {probe: "{{ api_port }}", note: "a'b"}
      json: {status: ok, checks.db: up, replicas: 3}
      contains: '"db"'
      timeout: 5
      retries: 2
      delay: 1
    - {name: Sin verificar, url: "https://legacy.internal/ping", validate_certs: false, method: HEAD, retries: 0}
    - {name: Base de datos, tcp: "db.internal:5432", timeout: 3}
    - {name: Estado, command: "systemctl is-active api", contains: active, where: controller}
"""
PARAMS = ("  api_port: {description: Puerto del API, type: port, default: 8443}\n"
          "  api_token: {description: Token del API, secret: true, env: API_TOKEN}\n")
GOLDEN = REPO / "tests" / "golden" / "health"


def proc_text() -> str:
    assert HEALTH in CLEAN
    text = CLEAN.replace(HEALTH, CHECKS, 1)
    return text.replace("parameters:\n", "parameters:\n" + PARAMS, 1)


def section(lang: Lang) -> str:
    text = runbook.render(parse_text(proc_text(), "p.yml"), lang, source="p.yml")
    heading = "## Validacion Final" if lang == "es" else "## Final Validation"
    start = text.index(heading)
    return text[start:text.index("\n## ", start + 1)] + "\n"


@pytest.mark.parametrize("lang", ["es", "en"])
def test_final_validation_golden(request: pytest.FixtureRequest, lang: Lang) -> None:
    check_golden(request, section(lang), GOLDEN / f"final-validation.{lang}.md")


def test_each_check_is_a_command_to_paste() -> None:
    text = section("en")
    block = text.split("```bash\n", 1)[1].split("\n```", 1)[0]
    assert ('curl -fsS -L --max-time 5 --cacert "/etc/ssl/internal-ca.pem" -X POST '
            '-H "Authorization: Bearer ${api_token}"') in block
    assert "-H 'Content-Type: application/json' --data-binary" in block
    assert 'curl -fsS -L --max-time 30 -k -I -o /dev/null' in block
    assert "timeout 3 bash -c 'exec 3<>\"/dev/tcp/$0/$1\"' \"db.internal\" \"5432\"" in block
    assert "systemctl is-active api" in block
    assert "jq -e --argjson p0 '[\"status\"]' --arg v0 \"ok\"" in block


def test_hostile_header_text_stays_one_double_quoted_word() -> None:
    block = section("es").split("```bash\n", 1)[1].split("\n```", 1)[0]
    # $, backticks and quotes are escaped inside the double quotes: printed, never run.
    assert '-H "X-Note: it\'s \\"\\$(id)\\" \\`id\\`"' in block


def test_a_secret_is_its_variable_and_the_variables_block_reads_it() -> None:
    text = runbook.render(parse_text(proc_text(), "p.yml"), "es", source="p.yml")
    assert "${api_token}" in text
    assert re.search(r'^api_token="\$\{API_TOKEN\}"', text, re.M)
