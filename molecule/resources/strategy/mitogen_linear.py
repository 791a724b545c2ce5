"""The strategy of the Molecule scenarios: Mitogen's linear strategy, or Ansible's own.

Mitogen keeps one Python interpreter per host for the whole run instead of
starting one (and unpacking the module) for every task: on this repository's
SSH test hosts a task costs about a tenth, which is what brings the catalog
scenario (hundreds of tasks, 26 drills) within CI's budget. Every behaviour
the playbooks rely on (blocks, rescue, serial, run_once, delegate_to, until)
is Ansible's linear strategy's: Mitogen replaces only the connection and the
module execution. Without the `mitogen` package (a dev extra) the scenarios
still run, slower, with a warning.

Enabled per scenario in molecule.yml: ANSIBLE_STRATEGY_PLUGINS (this
directory) and ANSIBLE_STRATEGY=mitogen_linear; child ansible-playbook runs
inherit both through the environment.
"""
from __future__ import annotations

try:
    import ansible_mitogen.loaders
    import ansible_mitogen.strategy
except ImportError:  # Mitogen not installed: Ansible's own linear strategy.
    from ansible.plugins.strategy.linear import StrategyModule  # noqa: F401
    from ansible.utils.display import Display

    Display().warning(
        "procc: the mitogen package is not installed (pip install mitogen): "
        "the Molecule scenarios run with Ansible's linear strategy, several times slower"
    )
else:
    _Linear = ansible_mitogen.loaders.strategy_loader.get("linear", class_only=True)

    class StrategyModule(ansible_mitogen.strategy.StrategyMixin, _Linear):  # type: ignore[misc,valid-type]
        """Ansible's linear strategy with Mitogen's connections and module runner."""
