"""security: TLS certificates are verified."""

from __future__ import annotations

from collections.abc import Iterator

from compiler.errors import Diagnostic
from compiler.lint import shell
from compiler.lint.base import Rule, actions, commands, doc_commands
from compiler.parse import Source

_INSECURE: dict[str, tuple[str, ...]] = {
    "curl": ("-k", "--insecure"),
    "wget": ("--no-check-certificate",),
    "kubectl": ("--insecure-skip-tls-verify",),
    "helm": ("--insecure-skip-tls-verify",),
    "pip": ("--trusted-host",),
}


class TlsVerifyDisabled(Rule):
    """TLS verification is turned off (``curl -k``, ``wget --no-check-certificate``,
    ``validate_certs: false``).

    It hides a man-in-the-middle and an expired certificate alike; use the
    internal CA bundle (``--cacert``) instead.

    Bad::

        run: curl -k https://backend.internal/health
        final_validation:
          health: [{url: "https://backend.internal/health", validate_certs: false}]

    Good::

        run: curl --cacert /etc/ssl/internal-ca.pem https://backend.internal/health
        final_validation:
          health: [{url: "https://backend.internal/health", ca_path: /etc/ssl/internal-ca.pem}]
    """

    id = "tls-verify-disabled"
    severity = "warning"
    perspectives = ("security",)
    summary = "TLS certificate verification is not disabled"

    def check(self, source: Source) -> Iterator[Diagnostic]:
        proc = source.procedure
        for text in (*commands(proc), *doc_commands(proc)):
            for cmd in shell.simple_commands(text.text):
                flags = _INSECURE.get(cmd.name, ())
                if (flags and cmd.has(*flags)) or (
                    cmd.name == "git" and any("sslverify=false" in a.lower() for a in cmd.args)
                ):
                    yield self.report(source, text.pos(source, cmd.offset),
                                      f"'{cmd.name}' with TLS verification disabled")
        for loc, action in actions(proc):
            if action.task is None:
                continue
            args = action.task[action.module]
            if isinstance(args, dict) and args.get("validate_certs") is False:
                yield self.report(source, source.smap.key((*loc, "task", action.module, "validate_certs")),
                                  "'validate_certs: false' disables TLS verification")
        for i, health in enumerate(proc.final_validation.health):
            if not health.validate_certs:
                yield self.report(source, source.smap.key(("final_validation", "health", i, "validate_certs")),
                                  "'validate_certs: false' disables TLS verification of the health check; "
                                  "give the internal CA as 'ca_path' instead")
