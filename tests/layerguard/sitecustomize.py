"""Test-layer guard: a test without ``@pytest.mark.ansible`` must not start Ansible.

tests/conftest.py puts this directory on PYTHONPATH and names a record file in
TESTLAYER_FORBID_ANSIBLE while such a test runs. Every Python process started
from it (procc in-process or as a subprocess, ansible-runner, pexpect) imports
this module at start-up; when the process is ansible-playbook, ansible or
ansible-runner, it writes its command line to the record and exits 97 before
doing anything, and the conftest fails the test naming the missing marker.
Why a sitecustomize: procc's runner puts the venv's bin first on PATH, so a
PATH shim would be bypassed; every Ansible entry point is a Python script.
"""

import os
import sys

_FORBIDDEN = {"ansible-playbook", "ansible", "ansible-runner"}


def _guard() -> None:
    record = os.environ.get("TESTLAYER_FORBID_ANSIBLE")
    if not record or not sys.argv or os.path.basename(sys.argv[0]) not in _FORBIDDEN:
        return
    with open(record, "a", encoding="utf-8") as fh:
        fh.write(" ".join(sys.argv) + "\n")
    sys.stderr.write("test-layer guard: this test is not marked 'ansible' and may not start "
                     f"{os.path.basename(sys.argv[0])}\n")
    sys.stderr.flush()
    os._exit(97)


_guard()
