"""Real-time intake: an HTTP API that scores, stores and alerts as reviews arrive.

`monitor serve` runs it (FastAPI on uvicorn, 127.0.0.1:8700 by default). POST /v1/reviews takes
one review or a list, with the same field names and aliases as file ingest, and answers with the
scores. Requests are micro-batched: one worker thread gathers what is waiting, and waits (at
most MONITOR_API_BATCH_WAIT_MS) for as many requests as its last batch held, then scores them in
one model pass, so throughput under concurrency approaches batch throughput. The same worker stores reviews, opens cases and queues alerts exactly like
`monitor ingest`; an alert thread delivers them at once and retries in the background.
"""

from __future__ import annotations

import asyncio
import json
import os
from contextlib import asynccontextmanager

from datetime import datetime
from typing import Annotated, Any, Callable

from fastapi import Depends, FastAPI, HTTPException, Query, Request
from fastapi import Path as FastAPIPath
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import (ValidationError)

from .alerts import AlertSettings
from .batch import Analyzer
from .cases import CasePolicy
from .casework import (CaseNotFoundError, ConcurrentEditError, TransitionError, case_detail,
                       move_case)
from .export import iso
from .ingest import IngestError
from .replies import follow_up_message, reply_for, seller_templates
from .settings import Settings, env_number
from .store import Store
from .trends import period_trends
from .errors import InputError

from .api_models import (ERRORS, EMPTY_RESULT, MAX_BODY_BYTES, MAX_REVIEWS_PER_REQUEST,  # noqa: F401
                         REVIEWS_BODY_SCHEMA, SCORE_FIELDS_OUT, TOO_LARGE, _REVIEWS_ADAPTER,
                         CaseOut, CasesOut, CaseState, ErrorOut, FollowUpOut, FollowUpsOut,
                         FollowUpStatus, Frequency, Grouping, ReviewIn, ReviewResult, ReviewsOut,
                         TransitionIn, TrendsOut)
from .intake import AlertLoop, IntakeWorker, Metrics  # noqa: F401  (part of this module's surface)

def only_query(*names: str) -> Callable[[Request], None]:
    """A dependency that refuses query parameters the endpoint does not know: a misspelt filter
    (`?sevrity=1`) would otherwise be ignored and answer with everything."""
    async def check(request: Request) -> None:  # async: no thread-pool hop per request
        unknown = sorted(set(request.query_params) - set(names))
        if unknown:
            raise HTTPException(422, f"unknown query parameter {unknown[0]!r}; this endpoint "
                                     f"takes {', '.join(names) or 'none'}")
        repeated = sorted(n for n in names if len(request.query_params.getlist(n)) > 1)
        if repeated:  # silently keeping one of the values would answer another question
            raise HTTPException(422, f"query parameter {repeated[0]!r} given more than once")
    return check


def parse_api_keys(spec: str | None) -> dict[str, str]:
    """`MONITOR_API_KEYS` "k1:write,k2:read" -> {"k1": "write", "k2": "read"}."""
    keys = {}
    for part in (spec or "").split(","):
        if not part.strip():
            continue
        key, sep, scope = part.strip().rpartition(":")
        if not sep or not key or scope not in ("read", "write"):
            raise InputError("MONITOR_API_KEYS: each entry is key:read or key:write, "
                             "comma-separated")
        keys[key] = scope
    return keys


def create_app(store: Store, analyzer: Callable[[], Analyzer], *, api_keys: dict[str, str],
               model_version: str, policy: CasePolicy | None = None,
               alert_settings: AlertSettings | None = None, alert_interval_s: float = 10.0,
               support_contact: str | None = None):
    """The FastAPI application; the analyzer factory is called on the first review to score."""
    policy = policy or CasePolicy.from_env()
    contact = support_contact or Settings.from_env().support_contact
    own_templates = seller_templates()

    def public_reply(row: dict) -> str | None:
        if not row.get("needs_response"):
            return None
        return reply_for(row, contact=contact, custom=own_templates).text

    alert_settings = alert_settings or AlertSettings.from_env()
    metrics = Metrics()
    alerts = AlertLoop(store, policy, alert_settings, alert_interval_s)
    # the most a request waits for others to join its model pass; the worker stops waiting as
    # soon as as many requests as last time are in, so this bounds the wait, it is not a delay
    wait_s = env_number("MONITOR_API_BATCH_WAIT_MS", 30, low=0, high=10000,
                        meaning="milliseconds a request may wait to share a model pass") / 1000
    worker = IntakeWorker(store, analyzer, model_version, policy, metrics, wait_s=wait_s,
                          on_alerts=alerts.poke, reply=public_reply)

    @asynccontextmanager
    async def lifespan(_app):
        worker.start()
        alerts.start()
        try:
            yield
        finally:
            worker.stop()
            alerts.stop()

    app = FastAPI(title="review-monitor", version="1", lifespan=lifespan,
                  description="Score, store and alert on reviews and complaints as they arrive.")

    @app.exception_handler(RequestValidationError)
    async def one_line_validation_error(_request: Request, exc: RequestValidationError):
        return JSONResponse({"detail": _one_line(exc.errors())}, status_code=422)

    app.add_middleware(RequestMetrics, metrics=metrics,
                       static_paths=lambda: {r.path for r in app.routes if "{" not in r.path})

    bearer = HTTPBearer(auto_error=False, description="an API key from MONITOR_API_KEYS")

    async def scope_of(credentials: HTTPAuthorizationCredentials | None = Depends(bearer)) -> str:
        token = credentials.credentials if credentials else ""
        scope = api_keys.get(token) if token else None
        if scope is None:
            raise HTTPException(401, "missing or unknown API key: send Authorization: Bearer <key>",
                                headers={"WWW-Authenticate": "Bearer"})
        return scope

    def need(scope: str):
        async def check(have: str = Depends(scope_of)) -> str:
            if scope == "write" and have != "write":
                raise HTTPException(403, "this API key may only read")
            return have
        return check

    @app.get("/healthz", dependencies=[Depends(only_query())], responses=ERRORS)
    def healthz() -> dict:
        """Liveness: the process answers. Whether it can score yet is /readyz."""
        return {"status": "ok"}

    @app.get("/readyz", dependencies=[Depends(only_query())],
             responses={503: {"model": ErrorOut}})
    def readyz():
        """Readiness: 200 once the model is loaded and the database answers, else 503 (a load
        balancer sends no reviews here until then)."""
        waiting = []
        if not worker.model_loaded:
            waiting.append("the model is still loading")
        try:
            store.count()
        except Exception as exc:  # any database failure means not ready; say which
            waiting.append(f"the database does not answer ({type(exc).__name__})")
        if waiting:
            return JSONResponse({"detail": "not ready: " + "; ".join(waiting)}, status_code=503)
        return {"status": "ready"}

    json_errors = {code: {"description": "error", "content": {
        "application/json": {"schema": ErrorOut.model_json_schema()}}} for code in (401, 403)}

    @app.get("/metrics", response_class=PlainTextResponse, responses=json_errors,
             dependencies=[Depends(only_query())])
    def metrics_text(_: str = Depends(need("read"))) -> str:
        frame = store.alerts()
        counts = dict(frame.group_by("status").len().iter_rows()) if frame.height else {}
        return metrics.render(worker.jobs.qsize(), counts)

    @app.post("/v1/reviews", response_model=ReviewsOut, responses=ERRORS,
              dependencies=[Depends(only_query())], openapi_extra={
        "requestBody": {"required": True, "content": {
            "application/json": {"schema": REVIEWS_BODY_SCHEMA}}}})
    async def post_reviews(request: Request, _: str = Depends(need("write"))):
        """Score, store and act on one review or a list of up to 1,000."""
        try:
            body = json.loads(await _read_limited(request))
        except (ValueError, UnicodeDecodeError):
            raise HTTPException(400, "body is not valid JSON") from None
        records = body if isinstance(body, list) else [body]
        if not records or not all(isinstance(r, dict) for r in records):
            raise HTTPException(422, "send one review object or a non-empty list of them")
        try:
            _REVIEWS_ADAPTER.validate_python(body)
        except ValidationError as exc:
            raise HTTPException(422, _one_line(exc.errors())) from None
        if len(records) > MAX_REVIEWS_PER_REQUEST:
            raise HTTPException(413, f"at most {MAX_REVIEWS_PER_REQUEST} reviews per request")
        try:  # awaited on the event loop: no thread sits blocked per waiting request
            results = await asyncio.wrap_future(worker.submit(records))
        except IngestError as exc:
            raise HTTPException(422, str(exc).replace("api: ", "")) from None
        # the worker builds every ReviewResult field from typed store columns, so the answer
        # goes out as it is (re-validating it per request cost CPU the model needs)
        return JSONResponse({"reviews": results})

    @app.get("/v1/reviews/{review_id}", response_model=dict[str, Any], responses=ERRORS,
             dependencies=[Depends(only_query())])
    def get_review(review_id: str, _: str = Depends(need("read"))) -> dict:
        frame = store.lookup(review_id=review_id)
        if frame.is_empty():
            raise HTTPException(404, f"no review with id {review_id}")
        row = frame.row(0, named=True)
        return _jsonable({**row, "reply_draft": public_reply(row)})

    @app.get("/v1/cases", response_model=CasesOut, responses=ERRORS,
             dependencies=[Depends(only_query("state", "severity", "product"))])
    def get_cases(state: CaseState | None = None,
                  severity: int | None = Query(None, ge=1, le=3, description="1 counterfeit, "
                                                "2 damage, 3 delay"),
                  product: str | None = None, _: str = Depends(need("read"))) -> dict:
        frame = store.cases()
        if state:
            frame = frame.filter(frame["state"] == state)
        if severity is not None:
            frame = frame.filter(frame["severity"] == severity)
        if product:
            frame = frame.filter(frame["product_id"] == product)
        return {"cases": [_jsonable(r) for r in frame.iter_rows(named=True)]}

    @app.get("/v1/cases/{case_id}", response_model=CaseOut, responses=ERRORS,
             dependencies=[Depends(only_query())])
    def get_case(case_id: Annotated[int, FastAPIPath(ge=1, le=2**63 - 1)],
                 _: str = Depends(need("read"))) -> dict:
        """One case with its history (`events`: from_state, to_state, actor, at, note)."""
        try:
            return case_detail(store, case_id)
        except CaseNotFoundError as exc:
            raise HTTPException(404, str(exc)) from None

    @app.post("/v1/cases/{case_id}/transitions", response_model=CaseOut, responses=ERRORS,
              dependencies=[Depends(only_query())])
    def post_transition(case_id: Annotated[int, FastAPIPath(ge=1, le=2**63 - 1)],
                        move: TransitionIn, _: str = Depends(need("write"))) -> dict:
        """Move a case (e.g. to `replied` once the public reply is posted). 409 when the
        workflow refuses the move or the case changed since `expected_version`."""
        try:
            return move_case(store, case_id, move.to, actor=move.actor, note=move.note,
                             expected_version=move.expected_version)
        except CaseNotFoundError as exc:
            raise HTTPException(404, str(exc)) from None
        except (TransitionError, ConcurrentEditError) as exc:
            raise HTTPException(409, str(exc)) from None

    @app.get("/v1/trends", response_model=TrendsOut, responses=ERRORS,
             dependencies=[Depends(only_query("by", "freq"))])
    def get_trends(by: Grouping = "product", freq: Frequency = "1w",
                   _: str = Depends(need("read"))) -> dict:
        try:
            frame = period_trends(store.facts(), by=by, every=freq, cases=store.cases())
        except ValueError as exc:
            raise HTTPException(422, str(exc)) from None
        return {"trends": [_jsonable(r) for r in frame.iter_rows(named=True)]}

    def follow_up_rows(frame) -> list[dict]:
        return [_jsonable({**r, "message_draft": follow_up_message(r, contact=contact,
                                                                   custom=own_templates)})
                for r in frame.iter_rows(named=True)]

    @app.get("/v1/follow-ups", response_model=FollowUpsOut, responses=ERRORS,
             dependencies=[Depends(only_query("status"))])
    def get_follow_ups(status: FollowUpStatus | None = None,
                       _: str = Depends(need("read"))) -> dict:
        """Improvement reports (7 days) and try-again invitations (30 days) after resolved
        cases, oldest due first; `due` = the buyer's morning has come, send it now."""
        frame = store.follow_ups()
        if status:
            frame = frame.filter(frame["status"] == status)
        return {"follow_ups": follow_up_rows(frame)}

    @app.post("/v1/follow-ups/{follow_up_id}/done", response_model=FollowUpOut,
              responses=ERRORS, dependencies=[Depends(only_query())])
    def follow_up_done(follow_up_id: Annotated[int, FastAPIPath(ge=1, le=2**63 - 1)],
                       _: str = Depends(need("write"))) -> dict:
        """Record that the follow-up was sent (once; a second call changes nothing)."""
        try:
            store.complete_follow_up(follow_up_id, actor="api")
        except KeyError:
            raise HTTPException(404, f"no follow-up {follow_up_id}") from None
        frame = store.follow_ups()
        return follow_up_rows(frame.filter(frame["id"] == follow_up_id))[0]

    app.state.worker, app.state.alerts, app.state.metrics = worker, alerts, metrics
    return app


class RequestMetrics:
    """Counts requests by route and status, and refuses a declared body over MAX_BODY_BYTES
    before it is read. A plain ASGI middleware: Starlette's BaseHTTPMiddleware costs a task
    and a stream per request, which under load takes CPU from the model."""

    def __init__(self, app, metrics: Metrics, static_paths: Callable[[], set[str]]):
        self.app, self.metrics, self.static_paths = app, metrics, static_paths

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status = 500  # what the client sees if the app raises before answering

        async def send_noting_status(message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        length = dict(scope["headers"]).get(b"content-length", b"")
        try:
            if length.isdigit() and int(length) > MAX_BODY_BYTES:
                await _too_large()(scope, receive, send_noting_status)
            else:
                await self.app(scope, receive, send_noting_status)
        finally:
            route = scope.get("route")  # set by the router on this same scope
            path = getattr(route, "path", None)
            if path is None:  # refused before routing, or no such endpoint
                path = scope["path"] if scope["path"] in self.static_paths() else "unmatched"
            self.metrics.request(path, status)


def _too_large() -> JSONResponse:
    return JSONResponse({"detail": TOO_LARGE}, status_code=413)


async def _read_limited(request: Request) -> bytes:
    """The request body, refused with 413 once it passes MAX_BODY_BYTES (a chunked upload
    declares no length, so the header check alone would let it through)."""
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise HTTPException(413, TOO_LARGE)
        chunks.append(chunk)
    return b"".join(chunks)


def _one_line(errors: list[dict]) -> str:
    """Pydantic's error list as one line that says where and what: "[0].text: ..."."""
    first = errors[0]
    where = ".".join(str(p) for p in first.get("loc", ()) if p not in ("body", "function-after"))
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    return f"{where or 'request'}: {first.get('msg', 'invalid')}{more}"


def _jsonable(row: dict) -> dict[str, Any]:
    """A row with its times as ISO 8601 with offset (the store keeps UTC)."""
    return {k: (iso(v) if isinstance(v, datetime) else v) for k, v in row.items()}


def check_can_listen(host: str, port: int) -> None:
    """Fail in one line, before the model loads, when `host:port` cannot be listened on."""
    import socket

    if not 0 < port < 65536:
        raise InputError(f"--port {port} is not a port: use 1-65535")
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        with socket.socket(infos[0][0], socket.SOCK_STREAM) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds
            probe.bind(infos[0][4])
    except OSError as exc:
        raise InputError(f"cannot listen on {host}:{port} ({exc.strerror or exc}): check --host, "
                         "or pick another --port / stop what uses it") from None


def serve(host: str, port: int, *, analyzer: Callable[[], Analyzer], model_version: str) -> None:
    """Run the API with the environment's settings (database, alert channels, API keys);
    `analyzer` loads the model (in the background, once the server is up)."""
    import uvicorn

    keys = parse_api_keys(os.environ.get("MONITOR_API_KEYS"))
    if not keys:
        raise InputError("set MONITOR_API_KEYS (e.g. 'k1:write,k2:read') before `monitor serve`")
    check_can_listen(host, port)
    app = create_app(Store(Settings.from_env().db_url), analyzer, api_keys=keys,
                     model_version=model_version)
    uvicorn.run(app, host=host, port=port, log_level="info")
