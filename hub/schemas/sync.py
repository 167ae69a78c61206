"""What the operator sees of a connection's sync."""

from __future__ import annotations

from marshmallow import Schema, fields


class CircuitSchema(Schema):
    state = fields.String(metadata={"description": "closed, open, half_open or unknown"})
    consecutive_failures = fields.Integer(allow_none=True)


class QueueHealthSchema(Schema):
    pending = fields.Integer()
    dead = fields.Integer(metadata={"description": "given up on: retry them after a fix"})
    lag_seconds = fields.Integer(allow_none=True,
                               metadata={"description": "age of the oldest pending row"})


class StreamHealthSchema(Schema):
    stream = fields.String()
    last_success_at = fields.DateTime(allow_none=True)
    lag_seconds = fields.Integer(allow_none=True,
                               metadata={"description": "seconds since the last success"})
    changes_waiting = fields.Integer(allow_none=True)
    last_error = fields.String(allow_none=True)
    last_error_class = fields.String(allow_none=True, metadata={
        "description": "transient, rate_limited, configuration, record or internal"})
    last_error_at = fields.DateTime(allow_none=True)


class LastErrorSchema(Schema):
    stream = fields.String()
    message = fields.String(allow_none=True)
    class_ = fields.String(data_key="class", attribute="class", allow_none=True)
    at = fields.DateTime(allow_none=True)


class SyncHealthSchema(Schema):
    connection_id = fields.Integer()
    connector = fields.String()
    name = fields.String()
    status = fields.String(metadata={"description": "active, paused or disabled"})
    circuit = fields.Nested(CircuitSchema)
    inbox = fields.Nested(QueueHealthSchema)
    outbox = fields.Nested(QueueHealthSchema)
    streams = fields.List(fields.Nested(StreamHealthSchema))
    last_error = fields.Nested(LastErrorSchema, allow_none=True)


class RetrySchema(Schema):
    inbox = fields.Boolean(load_default=True, metadata={"description": "replay dead inbox rows"})
    outbox = fields.Boolean(load_default=True,
                            metadata={"description": "resend dead notifications"})


class RetriedSchema(Schema):
    inbox = fields.Integer()
    outbox = fields.Integer()
