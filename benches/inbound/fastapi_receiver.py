"""The receiver a team would write instead of Liaison, as the inbound benchmark's baseline.

FastAPI + uvicorn + SQLite: checks `X-Liaison-Signature: sha256=<hex HMAC-SHA256 of the raw
body>`, parses the JSON, and stores the event with one commit per request before answering 202
(a redelivery is answered 200). The delivery id is the body's `id` when it has one, else the
SHA-256 of the body, as in Liaison's signed-json reception. SQLite runs as Liaison's does: WAL with
synchronous=NORMAL, so a committed event survives the process being killed.

Environment: BASELINE_SECRET (the HMAC key), BASELINE_DB (the SQLite file).
"""

import hashlib
import hmac
import json
import os
import sqlite3

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

SECRET = os.environ["BASELINE_SECRET"].encode()

db = sqlite3.connect(os.environ["BASELINE_DB"], isolation_level=None, check_same_thread=False)
db.execute("PRAGMA journal_mode=WAL")
db.execute("PRAGMA synchronous=NORMAL")
db.execute(
    "CREATE TABLE IF NOT EXISTS events ("
    " id INTEGER PRIMARY KEY, tenant TEXT NOT NULL, delivery_id TEXT NOT NULL,"
    " event_type TEXT, payload TEXT NOT NULL, received_at REAL NOT NULL,"
    " UNIQUE (tenant, delivery_id))"
)

app = FastAPI()


@app.post("/webhooks/{tenant}/ats")
async def receive(tenant: str, request: Request):
    body = await request.body()
    expected = "sha256=" + hmac.new(SECRET, body, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(request.headers.get("x-liaison-signature", ""), expected):
        return JSONResponse({"code": "invalid_signature"}, status_code=401)
    try:
        event = json.loads(body)
    except ValueError:
        return JSONResponse({"code": "malformed"}, status_code=400)
    given = event.get("id") if isinstance(event, dict) else None
    if isinstance(given, str) and given.strip():
        delivery_id = given.strip()
    else:
        delivery_id = hashlib.sha256(body).hexdigest()
    cursor = db.execute(
        "INSERT OR IGNORE INTO events (tenant, delivery_id, event_type, payload, received_at)"
        " VALUES (?, ?, ?, ?, strftime('%s', 'now'))",
        (tenant, delivery_id, event.get("type") if isinstance(event, dict) else None, body.decode()),
    )
    if cursor.rowcount == 0:
        return JSONResponse({"status": "duplicate"}, status_code=200)
    return JSONResponse({"status": "accepted", "event_id": cursor.lastrowid}, status_code=202)
