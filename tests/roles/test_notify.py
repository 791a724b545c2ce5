"""notify role: real posts to a local HTTP receiver, and the webhook URL never leaks."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from support.playbooks import dump, run_play
from support.webhook import Receiver, receiving

pytestmark = [pytest.mark.slow, pytest.mark.ansible]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with receiving() as r:
        yield r


def notify(event: str, message: str) -> dict[str, object]:
    return {
        "name": f"Notify {event}",
        "ansible.builtin.include_role": {"name": "notify"},
        "vars": {
            # From a 0600 file outside the runner's directory: ansible-runner writes its
            # environment and extra vars to artifacts/<id>/command, so neither may carry it.
            "notify_webhook_url": "{{ lookup('ansible.builtin.file', webhook_file) }}",
            "notify_event": event,
            "notify_message": message,
            "notify_procedure": "PROC-TEST-001",
        },
    }


def secret_file(tmp_path: Path, value: str) -> Path:
    path = tmp_path / "secrets" / "webhook"
    path.parent.mkdir(mode=0o700)
    path.write_text(value, encoding="utf-8")
    path.chmod(0o600)
    return path


def test_notify_posts_every_event_and_never_logs_the_url(tmp_path: Path, receiver: Receiver) -> None:
    token = f"T0-SECRET-{uuid.uuid4().hex}"
    url = f"http://127.0.0.1:{receiver.port}/hooks/{token}"
    webhook_file = secret_file(tmp_path, url)
    tasks = [
        notify("start", "despliegue v2"),
        notify("success", "v2 activa"),
        notify("failure", "paso 2 fallo"),
        notify("rollback", "v1 restaurada"),
    ]
    result = run_play(tmp_path / "run", tasks, extravars={"webhook_file": str(webhook_file)})
    assert result.ok, dump(result)

    assert [path for path, _ in receiver.posts] == [f"/hooks/{token}"] * 4
    texts = [str(body["text"]) for _, body in receiver.posts]
    assert texts[0].startswith("[INICIO] PROC-TEST-001 en localhost: despliegue v2")
    assert texts[1].startswith("[EXITO]")
    assert texts[2].startswith("[FALLO]") and "paso 2 fallo" in texts[2]
    assert texts[3].startswith("[ROLLBACK]")

    everything = result.all_output_text()
    assert token not in everything
    assert url not in everything
    assert "Post the notification" in result.stdout  # the task ran, censored


def test_notify_does_nothing_without_a_webhook(tmp_path: Path, receiver: Receiver) -> None:
    webhook_file = secret_file(tmp_path, "")
    result = run_play(
        tmp_path / "run",
        [notify("start", "sin webhook")],
        extravars={"webhook_file": str(webhook_file)},
    )
    assert result.ok, dump(result)
    assert receiver.posts == []
    skipped = [
        ev
        for ev in result.events
        if ev.get("event") == "runner_on_skipped" and "Post the notification" in ev["event_data"].get("task", "")
    ]
    assert len(skipped) == 1
