"""security: no credential is written in a procedure source."""

from __future__ import annotations

import re
from collections.abc import Iterator

from compiler.errors import Diagnostic
from compiler.lint.base import Rule, procedure_strings
from compiler.parse import Source

# A value that is a template or a variable is not a literal secret.
_REF = r"(?!\{\{|\$|<|\*{3}|x{3})"
SECRETS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("private key", re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----")),
    ("Slack webhook URL with its token",
     re.compile(r"https://hooks\.slack\.com/services/T[A-Z0-9]{6,}/B[A-Z0-9]{6,}/[A-Za-z0-9]{12,}")),
    ("webhook URL with a token", re.compile(
        r"https://(?:discord(?:app)?\.com/api/webhooks|[\w.-]*webhook\.office\.com|outlook\.office\.com/webhook)"
        r"/[\w/@-]{20,}")),
    ("Slack token", re.compile(r"\bxox[abposr]-[A-Za-z0-9-]{10,}")),
    ("GitHub token", re.compile(r"\b(?:gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{40,})")),
    ("GitLab token", re.compile(r"\bglpat-[A-Za-z0-9_-]{20,}")),
    ("AWS access key", re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b")),
    ("Google API key", re.compile(r"\bAIza[0-9A-Za-z_-]{35}\b")),
    ("JSON web token", re.compile(r"\beyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]+")),
    ("password in a URL", re.compile(rf"\b[a-z][a-z0-9+.-]*://[^/\s:@]+:{_REF}[^/\s@{{}}]+@")),
    ("password assignment", re.compile(
        rf"(?i)\b(?:[A-Z_]*PASSWORD|PGPASSWORD|MYSQL_PWD|passwd|pwd|secret|api[_-]?key|access[_-]?token"
        rf"|auth[_-]?token|token)\b\s*[:=]\s*['\"]?{_REF}[^\s'\"{{}}$]{{6,}}")),
    ("password option", re.compile(
        rf"\b(?:mysql\w*|mariadb\w*)\b[^\n|;]*?(?:\s--password[= ]|\s-p)['\"]?{_REF}"
        r"[A-Za-z0-9!@#%^&*_+=.-]{6,}(?=['\"\s]|$)")),
    ("bearer token", re.compile(rf"(?i)\bAuthorization:\s*(?:Bearer|Basic|token)\s+{_REF}[A-Za-z0-9._~+/=-]{{16,}}")),
)


# Cheap pre-filter: a string with none of these cannot match any pattern.
_HINT = re.compile(r"BEGIN|hooks\.|webhook|xox|gh[pousr]_|github_pat|glpat|AKIA|ASIA|AIza|eyJ|://|pass|pwd"
                   r"|secret|key|token|-p|Authorization", re.IGNORECASE)


def find_secrets(text: str) -> Iterator[tuple[int, str]]:
    """(offset, kind) of every literal credential in ``text``."""
    if not _HINT.search(text):
        return
    for kind, pattern in SECRETS:
        for m in pattern.finditer(text):
            yield m.start(), kind


class LiteralSecret(Rule):
    """A credential is written literally in the source.

    Sources are committed, printed into runbooks and shipped in playbooks.
    Tokens, webhook URLs with their token, passwords (``PGPASSWORD=...``,
    ``mysql -pSECRET``, ``postgres://user:pass@``), bearer headers and
    private keys belong in a ``secret: true`` parameter read from ``env``.

    Bad::

        post:
          notify:
            - title: Avisar
              run: curl -X POST https://hooks.slack.com/services/T0001/B0001/abcdefghijklmnop

    Good::

        parameters:
          slack_webhook: {description: Webhook de Slack, secret: true, env: SLACK_WEBHOOK}
        post:
          notify:
            - title: Avisar
              run: curl -X POST "{{ slack_webhook }}"
    """

    id = "literal-secret"
    severity = "error"
    perspectives = ("security",)
    summary = "no literal secrets in the source (tokens, webhook URLs, passwords, private keys)"

    def check(self, source: Source) -> Iterator[Diagnostic]:
        for text in procedure_strings(source.procedure):
            if text.loc[-1] == "pattern":
                continue
            for offset, kind in find_secrets(text.text):
                yield self.report(source, text.pos(source, offset),
                                  f"literal secret ({kind}); use a 'secret: true' parameter")
        for name, param in source.procedure.parameters.items():
            if param.secret and param.default not in (None, ""):  # empty: "not configured"
                yield self.report(source, source.smap.value(("parameters", name, "default")),
                                  f"secret parameter '{name}' has a literal default; read it from 'env'")
