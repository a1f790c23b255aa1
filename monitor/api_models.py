"""The HTTP API's request and answer shapes (pydantic), its limits and error table: what the
OpenAPI spec publishes."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, TypeAdapter

from .aspects import ASPECTS
from .cases import CASE_STATES
from .schema import SCORE_COLUMNS
from .trends import FREQUENCIES, GROUPINGS

MAX_BODY_BYTES = 2_000_000
MAX_REVIEWS_PER_REQUEST = 1000
TOO_LARGE = f"request body over {MAX_BODY_BYTES} bytes; send fewer reviews per request"
SCORE_FIELDS_OUT = tuple(SCORE_COLUMNS)


# an id the store can hold; platforms send them as numbers as often as text (Shopify, helpdesks)
Id = Annotated[str, StringConstraints(max_length=200)] | int


class ReviewIn(BaseModel):
    """One review or complaint. Any field name file ingest understands is accepted too (e.g.
    review_body, stars, asin), and unknown fields are kept with the review."""

    model_config = ConfigDict(extra="allow", strict=True)  # true/false is not a rating
    id: Id | None = Field(None, description="the marketplace's review id "
                           "(alias review_id); the same id posted twice is stored once")
    text: str | None = Field(None, description="the review or message (aliases: review_body, "
                             "body, content, comment, message, ...); required")
    product_id: Id | None = Field(None, description="alias asin, sku")
    rating: float | str | None = Field(None, description="stars as 4, '4/5', '★★★★☆' or '4,0'")
    date: str | int | float | None = Field(None, description="ISO 8601, a common export "
                                            "format, or epoch seconds")
    title: str | None = None
    lang: str | None = Field(None, description="ISO 639-1 code; detected when missing")
    marketplace: str | None = Field(None, max_length=100)
    order_id: Id | None = None
    customer_id: Id | None = None
    channel: Literal["review", "complaint", "chat", "email"] | None = Field(
        None, description="where it came from; a complaint, chat or email needs an answer "
        "unless it is praise")


_REVIEW_SCHEMA = ReviewIn.model_json_schema()
_REVIEW_SCHEMA["required"] = ["text"]  # or one of its aliases, which the schema cannot say
REVIEWS_BODY_SCHEMA = {"anyOf": [_REVIEW_SCHEMA, {"type": "array", "items": _REVIEW_SCHEMA,
                                                  "minItems": 1, "maxItems": 1000}]}
_REVIEWS_ADAPTER = TypeAdapter(ReviewIn | list[ReviewIn])


class ReviewResult(BaseModel):
    """What happened to one posted review, with its scores when it was stored."""

    status: Literal["stored", "duplicate", "rejected"]
    reason: str | None = None
    review_key: str | None = None
    review_id: str | None = None
    case_id: int | None = None
    lang: str | None = None
    sentiment: Literal["negative", "neutral", "positive"] | None = None
    p_negative: float | None = None
    p_neutral: float | None = None
    p_positive: float | None = None
    stars_pred: float | None = None
    confidence: float | None = None
    category: str | None = None
    severity: int | None = None
    evidence: str | None = None
    needs_response: bool | None = None
    aspects: list[Literal[ASPECTS]] | None = Field(  # type: ignore[valid-type]
        None, description="complaint aspects the review raises (none for praise)")
    reply_draft: str | None = Field(None, description=(
        "A public reply in the buyer's language (acknowledge, next step, private channel), for "
        "reviews that need a response; review and edit it before posting"))


EMPTY_RESULT = dict.fromkeys(ReviewResult.model_fields)


class ReviewsOut(BaseModel):
    reviews: list[ReviewResult]


class CasesOut(BaseModel):
    cases: list[dict[str, Any]]


class CaseEventOut(BaseModel):
    from_state: str | None
    to_state: str
    actor: str
    at: str = Field(description="ISO 8601 with offset")
    note: str


class CaseOut(BaseModel):
    """One case with its history; `version` goes back in a transition to refuse stale edits."""

    model_config = ConfigDict(extra="allow")
    case_id: int
    state: str
    version: int
    events: list[CaseEventOut]


class TransitionIn(BaseModel):
    """A move along the case workflow, e.g. a helpdesk saying it posted the public reply."""

    model_config = ConfigDict(extra="forbid")
    to: Literal[CASE_STATES] = Field(description="the new state")  # type: ignore[valid-type]
    actor: Annotated[str, StringConstraints(min_length=1, max_length=100,
                                            strip_whitespace=True)] = Field(
        description="who did it (recorded in the history)")
    note: Annotated[str, StringConstraints(max_length=2000)] = ""
    expected_version: int | None = Field(None, ge=1, description=(
        "the case's version when it was read: a case changed since then is refused (409)"))


class TrendsOut(BaseModel):
    trends: list[dict[str, Any]]


class FollowUpOut(BaseModel):
    """A follow-up after a resolved case, with its message draft in the buyer's language."""

    id: int
    case_id: int
    kind: Literal["improvement_report", "try_again"]
    status: Literal["planned", "due", "overdue", "done"]
    due_at: str
    contact_at: str = Field(description="when to send it: the buyer's local morning (UTC)")
    done_at: str | None = None
    done_by: str | None = None
    product_id: str | None = None
    lang: str | None = None
    category: str | None = None
    marketplace: str | None = None
    resolution_note: str
    message_draft: str = Field(description="starts from the resolution note; edit before sending")


class FollowUpsOut(BaseModel):
    follow_ups: list[FollowUpOut]


class ErrorOut(BaseModel):
    detail: str


ERRORS = {code: {"model": ErrorOut} for code in (400, 401, 403, 404, 409, 413, 422)}
CaseState = Literal[CASE_STATES]  # type: ignore[valid-type]
Grouping = Literal[tuple(GROUPINGS)]  # type: ignore[valid-type]
Frequency = Literal[tuple(FREQUENCIES)]  # type: ignore[valid-type]
FollowUpStatus = Literal["planned", "due", "overdue", "done"]
