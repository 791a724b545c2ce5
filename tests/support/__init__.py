"""Shared test helpers: a real PostgreSQL (scripts/postgres.sh) and ansible-runner playbook runs.

Import as ``from support import ...`` after putting ``tests/`` on ``sys.path``
(tests/roles/conftest.py does it).
"""
