"""``procc new TYPE "Title" [--from PROC-ID]``: a new procedure source, ready to fill in.

Writes ``procedures/PROC-<AREA>-NNN-slug.yml`` with the next free number of
the area, the guidance of the chosen type pre-filled (the steps such a
procedure usually has, its rollback triggers, what to validate), the author
from ``git config user.name`` and today's date. Every part a writer must
still provide holds a ``TODO:`` mark, so that the file compiles at once and
``procc lint`` points at exactly what is left (rule template-placeholder).
With ``--from``, the new file starts as a copy of another procedure (new id,
title, version 0.1.0, date, author; its history and sign-offs are not copied).
The YAML is built as Python data and dumped (compiler/yamlout.py).
"""

from __future__ import annotations

import datetime as dt
import os
import re
import subprocess
import unicodedata
from collections import Counter
from pathlib import Path
from typing import Any

from compiler.errors import UsageError
from compiler.project import PROCEDURES, resolve_one

# The model, the parser and the YAML emitter are imported where used: procc's
# argument parser reads TYPES from here on every start.

TYPES = ("deployment", "rollback", "maintenance", "troubleshooting", "scaling", "disaster-recovery")
HEADER = "# yaml-language-server: $schema=../docs/procedure.schema.json\n"
_AREA = re.compile(r"^[A-Z0-9]+(?:-[A-Z0-9]+)*$")
_FILE = re.compile(r"^PROC-(?P<area>[A-Z0-9]+(?:-[A-Z0-9]+)*)-(?P<n>\d{3})(?:-|\.yml$)")
MAX_SLUG = 40

# Per type: how often, how critical, the usual steps (title, criticality),
# when to run the full rollback, and what the final validation must show.
_GUIDE: dict[str, dict[str, Any]] = {
    "deployment": {
        "frequency": "on-demand", "criticality": "high",
        "steps": [("Registrar la version activa", "medium"), ("Instalar la version nueva", "medium"),
                  ("Activar la version nueva y reiniciar", "critical")],
        "triggers": ["Error rate por encima del umbral tras el despliegue", "Health check fallando"],
        "when": "Hay una version nueva aprobada para produccion",
    },
    "rollback": {
        "frequency": "emergency", "criticality": "high",
        "steps": [("Identificar la version previa", "medium"), ("Activar la version previa y reiniciar", "critical")],
        "triggers": ["La version previa tampoco responde sana"],
        "when": "La version desplegada falla y hay que volver a la anterior",
    },
    "maintenance": {
        "frequency": "weekly", "criticality": "medium",
        "steps": [("Crear un backup", "medium"), ("Aplicar el mantenimiento", "high"),
                  ("Verificar la integridad", "medium")],
        "triggers": ["La verificacion de integridad falla"],
        "when": "En la ventana de mantenimiento planificada",
    },
    "troubleshooting": {
        "frequency": "emergency", "criticality": "high",
        "steps": [("Recoger evidencias", "low"), ("Diagnosticar la causa", "low"), ("Aplicar la correccion", "high")],
        "triggers": ["La correccion empeora los sintomas"],
        "when": "Una alerta o un sintoma del servicio",
    },
    "scaling": {
        "frequency": "on-demand", "criticality": "medium",
        "steps": [("Preparar la instancia nueva", "medium"), ("Verificar la instancia nueva", "medium"),
                  ("Registrar la instancia en el balanceador", "high")],
        "triggers": ["La instancia nueva no responde sana"],
        "when": "La carga supera la capacidad prevista",
    },
    "disaster-recovery": {
        "frequency": "emergency", "criticality": "critical",
        "steps": [("Localizar el ultimo backup valido", "high"), ("Restaurar desde el backup", "critical"),
                  ("Verificar los datos restaurados", "critical")],
        "triggers": ["Los datos restaurados no pasan la verificacion"],
        "when": "Perdida o corrupcion de datos o del servicio",
    },
}


def slug(title: str) -> str:
    """A file-name slug of ``title``: ASCII letters and digits joined by dashes (``procedimiento`` if none)."""
    ascii_ = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode("ascii").lower()
    words = re.findall(r"[a-z0-9]+", ascii_)
    out = ""
    for w in words:
        if len(out) + len(w) + 1 > MAX_SLUG:
            break
        out = f"{out}-{w}" if out else w
    return out or "procedimiento"


def next_number(root: Path, area: str) -> int:
    """One more than the highest number of ``area`` among the files in procedures/ (1 when none)."""
    taken = [int(m["n"]) for f in (root / PROCEDURES).glob("*.yml")
             if (m := _FILE.match(f.name)) and m["area"] == area]
    return max(taken, default=0) + 1


def default_area(root: Path) -> str:
    """The area most procedures of the project have (BACKEND in an empty project)."""
    areas = Counter(m["area"] for f in (root / PROCEDURES).glob("*.yml") if (m := _FILE.match(f.name)))
    return sorted(areas.items(), key=lambda kv: (-kv[1], kv[0]))[0][0] if areas else "BACKEND"


def git_author(root: Path) -> str:
    """``git config user.name`` in ``root``, or a placeholder to fill in."""
    try:
        out = subprocess.run(["git", "config", "user.name"], cwd=root, capture_output=True, text=True,
                             timeout=10, check=False)
    except (OSError, subprocess.SubprocessError):
        return "TODO: autor"
    name = " ".join(out.stdout.split())
    return name if out.returncode == 0 and name else "TODO: autor"


def _step(k: int, title: str, criticality: str) -> dict[str, Any]:
    return {
        "title": title,
        "minutes": 5,
        "criticality": criticality,
        "run": f"echo 'TODO: comandos del paso {k}'",
        "expected": f"TODO: resultado esperado del paso {k}",
        "validate": {"run": f"echo 'TODO: comprobacion del paso {k}'", "expect": {"rc": 0}},
        "if_fails": [f"TODO: que revisar si el paso {k} falla"],
        "rollback": {"run": f"echo 'TODO: deshacer el paso {k}'", "expected": "TODO: estado tras deshacerlo"},
    }


def guided(proc_type: str, pid: str, title: str, author: str, today: dt.date) -> dict[str, Any]:
    """The source data of a new procedure of ``proc_type``, its guidance pre-filled."""
    g = _GUIDE[proc_type]
    steps = [_step(k, t, c) for k, (t, c) in enumerate(g["steps"], 1)]
    return {
        "id": pid, "type": proc_type, "category": "backend", "title": title,
        "criticality": g["criticality"], "frequency": g["frequency"],
        "estimated_minutes": 5 * len(steps) + 5, "version": "0.1.0", "updated": today.isoformat(),
        "author": author, "reviewers": ["TODO: revisor"], "hosts": "all",
        "purpose": {
            "what": "TODO: que hace este procedimiento, en una o dos frases",
            "when": [g["when"]], "when_not": ["TODO: cuando no usarlo"],
            "impact": {"users": "TODO: impacto en usuarios", "systems": "TODO: sistemas afectados",
                       "data": "TODO: impacto en datos", "sla": "TODO: impacto en el SLA"},
        },
        "prerequisites": {"access": ["TODO: permisos y accesos necesarios"],
                          "tools": [{"name": "bash", "version": ">=5.0"}],
                          "knowledge": ["TODO: conocimientos necesarios"],
                          "system_state": ["TODO: estado del sistema antes de empezar"]},
        "preflight": [{"title": "Verificar el estado del sistema", "run": "echo 'TODO: comprobacion previa'",
                       "expected": "TODO: resultado esperado", "if_fails": ["TODO: que hacer si falla"]}],
        "steps": steps,
        "final_validation": {
            "health": [{"name": "health", "url": "http://TODO.invalid/health", "status": 200}],
            "metrics": [{"name": "error_rate", "run": "echo 'TODO: medir el error rate'", "below": 0.01,
                         "description": "TODO: de donde sale la metrica"}],
            "smoke": [{"title": "Verificar el servicio", "run": "echo 'TODO: prueba funcional'",
                                        "expected": "TODO: resultado esperado"}],
                             "monitoring": ["TODO: que vigilar tras terminar"]},
        "rollback": {"triggers": [f"TODO: {t} (con su umbral, p. ej. > 5% durante 5 min)" for t in g["triggers"]],
                     "steps": [{"title": "Volver al estado inicial", "run": "echo 'TODO: rollback completo'",
                                "expected": "TODO: estado tras el rollback"}]},
        "troubleshooting": [{"problem": "TODO: problema frecuente", "symptoms": ["TODO: sintoma"],
                             "cause": "TODO: causa", "solution": "TODO: solucion"}],
        "post": {"documentation": ["Registrar la ejecucion en el historial"],
                 "monitoring": ["TODO: que vigilar las siguientes horas"]},
        "references": {"contacts": [{"role": "On-call", "name": "TODO: nombre", "contact": "TODO: contacto"}]},
        "changelog": [{"version": "0.1.0", "date": today.isoformat(), "author": author,
                       "changes": "Version inicial creada con procc new"}],
        "approvals": {"approved_by": {"name": "TODO: aprobador (Tech Lead)"},
                      "tested_in": {"env": "TODO: entorno donde se ensayo (staging)"}},
    }


def copied(root: Path, from_id: str, pid: str, title: str, author: str, today: dt.date) -> dict[str, Any]:
    """The source data of ``from_id`` as the start of a new procedure (its history and sign-offs left out)."""
    from compiler.parse import parse_file

    src = parse_file(resolve_one(from_id, root))
    data: dict[str, Any] = src.procedure.model_dump(mode="json", by_alias=True, exclude_unset=True)
    data.update(id=pid, title=title, version="0.1.0", updated=today.isoformat(), author=author)
    data.pop("approvals", None)
    data["changelog"] = [{"version": "0.1.0", "date": today.isoformat(), "author": author,
                          "changes": f"Version inicial creada con procc new a partir de {src.procedure.id}"}]
    return data


def new(root: Path, proc_type: str, title: str, from_id: str | None = None, area: str | None = None,
        today: dt.date | None = None) -> Path:
    """Write the new source into ``root``/procedures; returns its path (never overwrites)."""
    title = " ".join(title.split())
    if not title:
        raise UsageError("procc new: the title is empty")
    area = (area or default_area(root)).upper()
    if not _AREA.match(area):
        raise UsageError(f"procc new: area '{area}' must be letters and digits (e.g. BACKEND)")
    today = today or dt.date.today()
    pid = f"PROC-{area}-{next_number(root, area):03d}"
    from compiler.model import PROC_ID

    if not PROC_ID.match(pid):  # 1000 procedures in one area
        raise UsageError(f"procc new: no free number left in area {area}")
    author = git_author(root)
    data = copied(root, from_id, pid, title, author, today) if from_id else guided(proc_type, pid, title, author, today)
    if from_id:
        data["type"] = proc_type
    path = root / PROCEDURES / f"{pid}-{slug(title)}.yml"
    from compiler.yamlout import dump

    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("x", encoding="utf-8") as fh:  # exclusive: never replaces a file
            fh.write(HEADER + dump(data))
    except FileExistsError:
        raise UsageError(f"procc new: {path} already exists; nothing was written") from None
    except OSError as exc:
        raise UsageError(f"procc new: cannot write {path}: {exc.strerror or exc}") from None
    os.utime(path)
    return path
