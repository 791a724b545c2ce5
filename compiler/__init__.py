"""procc: compile one YAML procedure into a Markdown runbook and an Ansible playbook."""

__version__ = "0.1.0"
