"""The explicit list of lint rules. A new rule is a module in rules/ plus one line here."""

from __future__ import annotations

import datetime as dt

from compiler.lint.base import Rule
from compiler.lint.rules.capture_unused import CaptureUnused
from compiler.lint.rules.command_substitution_argument import CommandSubstitutionArgument
from compiler.lint.rules.critical_approval import CriticalApproval
from compiler.lint.rules.curl_pipe_shell import CurlPipeShell
from compiler.lint.rules.db_backup_preflight import DbBackupPreflight
from compiler.lint.rules.db_integrity_validation import DbIntegrityValidation
from compiler.lint.rules.db_restore_rollback import DbRestoreRollback
from compiler.lint.rules.drill_never_passes import DrillNeverPasses
from compiler.lint.rules.escalation_contacts import EscalationContacts
from compiler.lint.rules.final_validation_empty import FinalValidationEmpty
from compiler.lint.rules.final_validation_health import FinalValidationHealth
from compiler.lint.rules.full_rollback_missing import FullRollbackMissing
from compiler.lint.rules.hardcoded_default import HardcodedDefault
from compiler.lint.rules.interactive_command import InteractiveCommand
from compiler.lint.rules.literal_secret import LiteralSecret
from compiler.lint.rules.parameter_description import ParameterDescription
from compiler.lint.rules.read_only_changes import ReadOnlyChanges
from compiler.lint.rules.rollback_trigger_measurable import RollbackTriggerMeasurable
from compiler.lint.rules.secret_parameter import SecretParameter
from compiler.lint.rules.stale_procedure import StaleProcedure
from compiler.lint.rules.step_expected_result import StepExpectedResult
from compiler.lint.rules.step_missing_if_fails import StepMissingIfFails
from compiler.lint.rules.step_missing_rollback import StepMissingRollback
from compiler.lint.rules.step_missing_validation import StepMissingValidation
from compiler.lint.rules.steps_exceed_estimate import StepsExceedEstimate
from compiler.lint.rules.success_metrics_numeric import SuccessMetricsNumeric
from compiler.lint.rules.template_placeholder import TemplatePlaceholder
from compiler.lint.rules.tls_verify_disabled import TlsVerifyDisabled
from compiler.lint.rules.tool_version import ToolVersion
from compiler.lint.rules.troubleshooting_missing import TroubleshootingMissing
from compiler.lint.rules.untested_approval import UntestedApproval
from compiler.lint.rules.version_in_changelog import VersionInChangelog

# Grouped by the perspective that asked for them; the order is the report order.
RULES: list[type[Rule]] = [
    # devops
    StepMissingValidation,
    StepMissingRollback,
    FullRollbackMissing,
    TemplatePlaceholder,
    InteractiveCommand,
    CommandSubstitutionArgument,
    ReadOnlyChanges,
    DrillNeverPasses,
    CaptureUnused,
    # sre
    TroubleshootingMissing,
    SuccessMetricsNumeric,
    RollbackTriggerMeasurable,
    StepsExceedEstimate,
    FinalValidationEmpty,
    FinalValidationHealth,
    StepMissingIfFails,
    EscalationContacts,
    HardcodedDefault,
    # dev
    ToolVersion,
    ParameterDescription,
    StepExpectedResult,
    # dba
    DbBackupPreflight,
    DbRestoreRollback,
    DbIntegrityValidation,
    # security
    LiteralSecret,
    SecretParameter,
    CurlPipeShell,
    TlsVerifyDisabled,
    # governance
    CriticalApproval,
    VersionInChangelog,
    StaleProcedure,
    UntestedApproval,
]


def rules(today: dt.date | None = None) -> list[Rule]:
    """One instance of every rule (``today`` fixes the date for date-dependent rules)."""
    return [cls(today) for cls in RULES]


def by_id() -> dict[str, type[Rule]]:
    """The rule classes by id."""
    return {cls.id: cls for cls in RULES}
