"""procc: compile one YAML procedure into a Markdown runbook and an Ansible playbook."""

DISTRIBUTION = "procedure-compiler"


def __getattr__(name: str) -> str:
    """``compiler.__version__``: the installed distribution's version (pyproject.toml is the one source).

    Read on first use only: importlib.metadata costs tens of milliseconds,
    which a compile that never prints the version should not pay.
    """
    if name == "__version__":
        from importlib.metadata import PackageNotFoundError, version

        try:
            return version(DISTRIBUTION)
        except PackageNotFoundError:  # a checkout run without installing it
            return "0+unknown"
    raise AttributeError(f"module 'compiler' has no attribute {name!r}")
