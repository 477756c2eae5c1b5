"""Realistic signed deliveries, generated up front so the load generator does no crypto.

A stream is: ``created`` for N contacts, then updates spread over them (Timely with a ``changes`` diff,
FPT ``updated`` / ``status_changed`` / ``sub_group_changed``), then a few deletions. Timestamps in the
signatures are taken when the stream is generated: generate just before the run (the tolerance is 300 s).
"""

import hashlib
import hmac
import json
import random
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

FIRST = ["Ana", "Bruno", "Camila", "Diego", "Eduarda", "Felipe", "Gabriela", "Heitor", "Isabela", "João", "Larissa"]
LAST = ["Costa", "Silva", "Souza", "Oliveira", "Pereira", "Ribeiro", "Almeida", "Carvalho", "Gomes", "Martins"]
TAGS = ["cliente-vip", "pagamento-pendente", "lead-quente", "retorno", "indicacao", "black-friday"]
TIMELY_ACCOUNT = "ws_bench"
FPT_LOCATION = 48213


@dataclass(frozen=True)
class SignedRequest:
    path: str
    headers: dict[str, str]
    body: bytes


def _iso(moment: datetime, *, ms: bool = False) -> str:
    if ms:
        return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _sign(secret: str, timestamp: str, body: bytes) -> str:
    return hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


def _body(payload: dict) -> bytes:
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()


def timely_request(payload: dict, secret: str, now: float) -> SignedRequest:
    body, timestamp = _body(payload), str(int(now))
    headers = {"X-Timely-Signature": f"sha256={_sign(secret, timestamp, body)}", "X-Timely-Timestamp": timestamp}
    return SignedRequest("/webhooks/timely/", headers, body)


def fpt_request(payload: dict, secret: str, now: float) -> SignedRequest:
    body, timestamp = _body(payload), str(int(now))
    return SignedRequest(
        "/webhooks/fpt/", {"X-FPT-Signature": f"t={timestamp},v1={_sign(secret, timestamp, body)}"}, body
    )


def _person(rng: random.Random, n: int) -> dict:
    first, last = rng.choice(FIRST), rng.choice(LAST)
    return {
        "name": f"{first} {last} {rng.choice(LAST)}",
        "phone": f"+55 47 9{rng.randint(8000, 9999)}-{rng.randint(0, 9999):04d}",
        "email": f"{first.lower()}.{last.lower()}{n}@exemplo.com.br",
    }


def timely_events(*, contacts: int, updates: int, deletions: int, start: datetime, rng: random.Random, offset=0):
    """Three phases of payloads: created, updated (random contacts, in time order), deleted."""
    state, created, updated, deleted = {}, [], [], []
    for i in range(contacts):
        cid, moment = f"cont_b{offset + i}", start + timedelta(milliseconds=i)
        person = _person(rng, offset + i)
        data = {
            "contact_id": cid,
            **person,
            "avatar_url": None,
            "source": rng.choice(["whatsapp", "instagram", "webchat"]),
            "tags": rng.sample(TAGS, rng.randint(0, 2)),
            "custom_fields": {"plano": rng.choice(["basic", "pro"]), "origem": "site"},
            "assigned_to": f"usr_{rng.randint(1, 40)}",
            "created_at": _iso(moment),
        }
        state[cid] = data
        created.append(_timely_envelope("contact.created", moment, data))
    ids = list(state)
    for j in range(updates):
        cid = rng.choice(ids)
        moment = start + timedelta(minutes=10, milliseconds=j)
        current = state[cid]
        changes = {}
        for name in rng.sample(["name", "phone", "email", "tags", "custom_fields", "assigned_to"], rng.randint(1, 3)):
            after = _new_value(name, rng, j)
            changes[name] = {"before": current[name], "after": after}
            current[name] = after
        data = {
            "contact_id": cid,
            "changes": changes,
            "updated_by": f"usr_{rng.randint(1, 40)}",
            "updated_by_type": "attendant",
            "updated_at": _iso(moment),
        }
        updated.append(_timely_envelope("contact.updated", moment, data))
    for k, cid in enumerate(rng.sample(ids, min(deletions, len(ids)))):
        moment = start + timedelta(hours=1, milliseconds=k)
        data = {
            "contact_id": cid,
            "name": state[cid]["name"],
            "phone": state[cid]["phone"],
            "email": state[cid]["email"],
            "deleted_by": "usr_321",
            "deleted_by_type": "attendant",
            "deleted_at": _iso(moment),
        }
        deleted.append(_timely_envelope("contact.deleted", moment, data))
    return created, updated, deleted


def _new_value(name: str, rng: random.Random, n: int):
    if name in ("name", "phone"):
        return _person(rng, n)[name]
    if name == "email":
        return f"novo{n}@exemplo.com.br"
    if name == "tags":
        return rng.sample(TAGS, rng.randint(0, 3))
    if name == "custom_fields":
        return {"plano": rng.choice(["basic", "pro", "enterprise"]), "origem": "site"}
    return f"usr_{rng.randint(1, 40)}"


def _timely_envelope(event: str, moment: datetime, data: dict) -> dict:
    return {
        "event": event,
        "event_id": f"evt_{uuid.uuid4().hex[:26].upper()}",
        "timestamp": _iso(moment),
        "workspace_id": TIMELY_ACCOUNT,
        "data": data,
    }


def fpt_events(*, contacts: int, updates: int, deletions: int, start: datetime, rng: random.Random, offset=0):
    state, created, updated, deleted = {}, [], [], []
    for i in range(contacts):
        cid = 700_000 + offset + i
        state[cid] = {"status": rng.randint(1, 7), "sub_group": None}
        created.append(_fpt_envelope("contact.created", start + timedelta(milliseconds=i), cid, operation="create"))
    ids = list(state)
    for j in range(updates):
        cid, moment = rng.choice(ids), start + timedelta(minutes=10, milliseconds=j)
        kind = rng.choice(["contact.updated", "contact.status_changed", "contact.sub_group_changed"])
        if kind == "contact.updated":
            updated.append(_fpt_envelope(kind, moment, cid, operation="update"))
        elif kind == "contact.status_changed":
            new = rng.randint(1, 7)
            updated.append(_fpt_envelope(kind, moment, cid, previousStatusId=state[cid]["status"], newStatusId=new))
            state[cid]["status"] = new
        else:
            new = rng.randint(100, 140)
            previous = state[cid]["sub_group"]
            updated.append(_fpt_envelope(kind, moment, cid, previousSubGroupId=previous, newSubGroupId=new))
            state[cid]["sub_group"] = new
    for k, cid in enumerate(rng.sample(ids, min(deletions, len(ids)))):
        deleted.append(
            _fpt_envelope("contact.deleted", start + timedelta(hours=1, milliseconds=k), cid, operation="delete")
        )
    return created, updated, deleted


def _fpt_envelope(event: str, moment: datetime, contact_id: int, **data) -> dict:
    return {
        "eventId": uuid.uuid4().hex,
        "eventType": event,
        "eventTimestamp": _iso(moment, ms=True),
        "locationId": FPT_LOCATION,
        "organizationId": 0,
        "apiVersion": "v1",
        "data": {"contactId": contact_id, **data},
    }


def stream(*, total: int, secrets: dict[str, str], seed: int = 7, offset: int = 0) -> list[SignedRequest]:
    """``total`` signed requests: ~30% created, ~69% updates, ~1% deletions; 70% Timely, 30% FPT.
    Phases are kept in order (created, then updates, then deletions); within a phase the
    two providers interleave."""
    rng = random.Random(seed)
    start = datetime.now(UTC) - timedelta(days=1)
    now = time.time()
    shares = {"timely": 0.7, "fpt": 0.3}
    phases: list[list[SignedRequest]] = [[], [], []]
    for provider, share in shares.items():
        count = round(total * share)
        contacts, deletions = round(count * 0.30), max(1, round(count * 0.01))
        updates = count - contacts - deletions
        make, sign = (timely_events, timely_request) if provider == "timely" else (fpt_events, fpt_request)
        for phase, payloads in zip(
            phases,
            make(contacts=contacts, updates=updates, deletions=deletions, start=start, rng=rng, offset=offset),
            strict=True,
        ):
            phase.extend(sign(payload, secrets[provider], now) for payload in payloads)
    result = []
    for phase in phases:
        rng.shuffle(phase)
        result.extend(phase)
    return result


def write_wrk_file(requests: list[SignedRequest], path: Path) -> None:
    """One request a line: path TAB headers ("Name: value" joined by "|") TAB compact JSON body."""
    with path.open("wb") as out:
        for request in requests:
            headers = "|".join(f"{name}: {value}" for name, value in request.headers.items())
            out.write(request.path.encode() + b"\t" + headers.encode() + b"\t" + request.body + b"\n")
