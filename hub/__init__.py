"""Gudok Hub (구독 허브): the integration hub of a municipal subscription-box programme."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from flask import Flask

__all__ = ["create_app"]


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    from hub.app import create_app as _create_app

    return _create_app(config)
