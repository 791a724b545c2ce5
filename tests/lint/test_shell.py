"""The shell heuristics behind the rules: what reads, what writes, what waits, what is a database."""

from __future__ import annotations

import pytest

from compiler.lint import shell
from compiler.lint.rules.interactive_command import why_interactive
from compiler.lint.rules.literal_secret import find_secrets
from compiler.lint.rules.template_placeholder import PLACEHOLDER


@pytest.mark.parametrize("text", [
    "df -P / | awk 'NR==2 {gsub(\"%\", \"\", $5); print $5}'",
    "cat /proc/loadavg",
    "test \"$(wc -l < {{ d }}/f.txt)\" -eq 5",
    "curl -fsS http://localhost:8080/health",
    "systemctl is-active backend-api && journalctl -u backend-api -n 50 --no-pager",
    "psql -tAc 'SELECT count(*) FROM t' 2>/dev/null",
    "kubectl get pods -o wide",
    "sudo -n systemctl status nginx",
    "find /var/log -name '*.gz' -mtime +30",
    'psql -tAc "SELECT count(*) FROM items"',
    "curl -fsS -o /dev/null -w '%{http_code}' http://localhost:8080/health",
    'echo "total: $(du -sh /var/log | cut -f1)"',
])
def test_read_only(text: str) -> None:
    assert shell.first_change(text) is None


@pytest.mark.parametrize(("text", "offset"), [
    ("systemctl restart backend-api", 0),
    ("echo ok > /etc/motd", 8),
    ("ls && rm -rf /tmp/x", 6),
    ("curl -X POST http://x/api", 0),
    ("sed -i 's/a/b/' f", 0),
    ("find /tmp -name x -delete", 0),
    ("{\n  echo a\n} > {{ d }}/r.txt", 13),
    ("./deploy.sh", 0),
    ("psql -f migrate.sql", 0),
])
def test_changes(text: str, offset: int) -> None:
    assert shell.first_change(text) == offset


@pytest.mark.parametrize(("text", "interactive"), [
    ("vim /etc/hosts", True),
    ("less /var/log/syslog", True),
    ("top", True),
    ("top -b -n 1", False),
    ("tail -f /var/log/app.log", True),
    ("tail -n 50 /var/log/app.log", False),
    ("apt-get install nginx", True),
    ("apt-get install -y nginx", False),
    ("read -p 'continuar?' x", True),
    ("cat f | while read -r line; do echo $line; done", False),
    ("mysql -u root -p app", True),
    ("kubectl exec -it pod -- bash", True),
    ("git commit -m 'x'", False),
    ("git commit", True),
])
def test_interactive(text: str, interactive: bool) -> None:
    assert any(why_interactive(c) for c in shell.simple_commands(text)) is interactive


@pytest.mark.parametrize(("text", "kind"), [
    ("alembic upgrade head", "migration"),
    ("psql -c \"ALTER TABLE users ADD COLUMN x int\"", "ddl"),
    ("mysql app < /backups/pre.sql", "restore"),
    ("psql -c 'TRUNCATE sessions'", "ddl"),
    ("python manage.py migrate", "migration"),
])
def test_db_writes(text: str, kind: str) -> None:
    assert shell.first_db_write(text) is not None, kind


@pytest.mark.parametrize("text", [
    "psql -tAc 'SELECT count(*) FROM users'", "pg_dump -Fc app > /backups/a.dump", "pg_isready",
    "echo drop the ball",
])
def test_db_reads(text: str) -> None:
    assert shell.first_db_write(text) is None


def test_backup_and_restore_tools() -> None:
    assert shell.is_db_backup("pg_dump -Fc -d app -f /b/a.dump")
    assert shell.is_db_backup("mysqldump app > /b/a.sql")
    assert not shell.is_db_backup("tar czf /b/etc.tgz /etc")
    assert shell.is_db_restore("pg_restore --clean -d app /b/a.dump")
    assert shell.is_db_restore("psql app < /b/a.sql")
    assert not shell.is_db_restore("psql -c 'SELECT 1'")


@pytest.mark.parametrize(("text", "secret"), [
    ("PGPASSWORD=hunter2hunter psql", True),
    ("PGPASSWORD={{ db_password }} psql", False),
    ("PGPASSWORD=$DB_PASSWORD psql", False),
    ("postgres://app:S3cret@db/app", True),
    ("postgres://app:{{ pw }}@db/app", False),
    ("mysql -pS3cretPass app", True),
    ("mkdir -p /var/lib/backend && ssh -p2222 host", False),
    ("AKIAABCDEFGHIJKLMNOP", True),
    ("-----BEGIN OPENSSH PRIVATE KEY-----", True),
    ("curl -H 'Authorization: Bearer abcdefghijklmnopqrstuvwx' http://x", True),
    ("curl -H \"Authorization: Bearer {{ api_token }}\" http://x", False),
    ("https://hooks.slack.com/services/XXX", False),
])
def test_secrets(text: str, secret: bool) -> None:
    assert bool(list(find_secrets(text))) is secret


@pytest.mark.parametrize(("text", "placeholder"), [
    ("[comando1]", True), ("[Nombre]", True), ("PROC-BACKEND-XXX", True), ("XXmin", True),
    ("YYYY-MM-DD", True), ("[staging|production|dev]", True), ("kubectl version X.Y.Z", True),
    ("[ -f /tmp/x ]", False), ("grep -E '^[a-z]+$'", False), ("[[ -d /opt ]]", False),
    ("Revisar PROC-BACKEND-004", False), ("tar -xzf backup.tgz", False),
])
def test_placeholders(text: str, placeholder: bool) -> None:
    assert bool(PLACEHOLDER.search(text)) is placeholder


def test_command_substitution_inside_double_quotes_still_counts() -> None:
    assert shell.first_change('echo "$(rm -rf /tmp/x)"') == 8


def test_curl_writing_a_file_changes_something() -> None:
    assert shell.first_change("curl -fsS -o /tmp/release.tgz http://x/r.tgz") == 0
