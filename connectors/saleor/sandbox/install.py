"""The app install handshake, like Saleor's `appInstall`: fetch the manifest, create the
app with its permissions and webhooks, and hand its token to the app's tokenTargetUrl."""

from __future__ import annotations

import re
import secrets
import string
from dataclasses import dataclass
from typing import Any

import requests
from graphql import (
    DocumentNode,
    GraphQLEnumType,
    GraphQLError,
    InlineFragmentNode,
    OperationDefinitionNode,
    OperationType,
    parse,
    validate,
)

from connectors.saleor.sandbox.net import outbound_session, require_loopback_url
from connectors.saleor.sandbox.schema import SCHEMA_VERSION, SandboxSchema
from connectors.saleor.sandbox.store import Rec, Store

TOKEN_ALPHABET = string.ascii_letters + string.digits


class InstallError(RuntimeError):
    """The app could not be installed; says why, as Saleor's install job would."""


@dataclass(frozen=True)
class InstalledApp:
    id: str
    identifier: str | None
    name: str
    token: str
    permissions: tuple[str, ...]
    webhook_ids: tuple[str, ...]


def new_app_token() -> str:
    """Saleor app tokens are 30 random letters and digits."""
    return "".join(secrets.choice(TOKEN_ALPHABET) for _ in range(30))


def enum_values(schema: SandboxSchema, name: str) -> set[str]:
    enum = schema.schema.type_map[name]
    assert isinstance(enum, GraphQLEnumType)
    return set(enum.values)


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).upper()


def events_of_query(document: DocumentNode, schema: SandboxSchema) -> list[str]:
    """The async events a subscription query subscribes to, as Saleor derives them."""
    found: list[str] = []
    async_events = enum_values(schema, "WebhookEventTypeAsyncEnum")
    for definition in document.definitions:
        if not isinstance(definition, OperationDefinitionNode):
            continue
        for selection in definition.selection_set.selections:
            name = getattr(selection, "name", None)
            if name is None:
                continue
            if name.value != "event":
                found.append(_snake(name.value))
                continue
            sub = getattr(selection, "selection_set", None)
            for inner in sub.selections if sub else ():
                if isinstance(inner, InlineFragmentNode) and inner.type_condition:
                    found.append(_snake(inner.type_condition.name.value))
    return [e for e in dict.fromkeys(found) if e in async_events]


def parse_subscription(query: str, schema: SandboxSchema) -> DocumentNode:
    try:
        document = parse(query)
    except GraphQLError as failure:
        raise InstallError(f"Subscription query is not valid: {failure.message}") from None
    problems = validate(schema.schema, document)
    if problems:
        raise InstallError("Subscription query is not valid: "
                           + "; ".join(p.message for p in problems))
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if len(operations) != 1 or operations[0].operation != OperationType.SUBSCRIPTION:
        raise InstallError("Subscription query must hold exactly one subscription operation.")
    return document


def clean_manifest(manifest: Any, schema: SandboxSchema) -> dict[str, Any]:
    if not isinstance(manifest, dict):
        raise InstallError("Incorrect structure of manifest: not a JSON object.")
    missing = [k for k in ("id", "version", "name", "tokenTargetUrl") if not manifest.get(k)]
    if missing:
        raise InstallError(f"Incorrect structure of manifest: missing {', '.join(missing)}.")
    require_loopback_url(str(manifest["tokenTargetUrl"]))
    known = enum_values(schema, "PermissionEnum")
    permissions = list(manifest.get("permissions") or [])
    unknown = [p for p in permissions if p not in known]
    if unknown:
        raise InstallError(f"Given permissions don't exist: {', '.join(map(str, unknown))}.")
    async_known = enum_values(schema, "WebhookEventTypeAsyncEnum")
    sync_known = enum_values(schema, "WebhookEventTypeSyncEnum")
    webhooks = []
    for spec in manifest.get("webhooks") or []:
        if not isinstance(spec, dict) or not spec.get("name") or not spec.get("targetUrl") \
                or not spec.get("query"):
            raise InstallError("Incorrect structure of manifest: a webhook needs name, "
                               "targetUrl and query.")
        require_loopback_url(str(spec["targetUrl"]))
        document = parse_subscription(str(spec["query"]), schema)
        async_events = list(spec.get("asyncEvents") or [])
        sync_events = list(spec.get("syncEvents") or [])
        bad = [e for e in async_events if e not in async_known]
        bad += [e for e in sync_events if e not in sync_known]
        if bad:
            raise InstallError(f"Unknown webhook events: {', '.join(map(str, bad))}.")
        if not async_events and not sync_events:
            async_events = events_of_query(document, schema)
        webhooks.append({"name": spec["name"], "targetUrl": spec["targetUrl"],
                         "query": spec["query"], "document": document,
                         "asyncEvents": async_events, "syncEvents": sync_events,
                         "isActive": spec.get("isActive", True) is not False})
    return {"identifier": str(manifest["id"]), "name": str(manifest["name"]),
            "version": str(manifest["version"]), "permissions": permissions,
            "tokenTargetUrl": str(manifest["tokenTargetUrl"]), "webhooks": webhooks,
            "appUrl": manifest.get("appUrl"), "author": manifest.get("author"),
            "aboutApp": manifest.get("about"), "homepageUrl": manifest.get("homepageUrl"),
            "supportUrl": manifest.get("supportUrl"),
            "configurationUrl": manifest.get("configurationUrl"),
            "dataPrivacyUrl": manifest.get("dataPrivacyUrl")}


def create_app(store: Store, *, name: str, permissions: list[str], identifier: str | None,
               manifest_url: str | None = None, **fields: Any) -> tuple[Rec, str]:
    """An active app holding one new token; returns the app and the token."""
    token = new_app_token()
    app = store.new("App", name=name, identifier=identifier, isActive=True, type="THIRDPARTY",
                    manifestUrl=manifest_url, _permissions=list(dict.fromkeys(permissions)),
                    _tokens=[token], webhooks=[], extensions=[], problems=[],
                    breakerState="CLOSED", breakerLastStateChange=None, accessToken=None,
                    **fields)
    app["tokens"] = [{"id": app["id"] + "-token", "name": "Default", "authToken": token[-4:]}]
    return app, token


def add_webhook(store: Store, app: Rec, spec: dict[str, Any], secret: str | None) -> Rec:
    webhook = store.new(
        "Webhook", name=spec["name"], app=app, targetUrl=spec["targetUrl"],
        isActive=spec["isActive"], secretKey=secret, subscriptionQuery=spec["query"],
        customHeaders=None, identifier=None, _document=spec["document"],
        _events=list(spec["asyncEvents"]),
        asyncEvents=[{"eventType": e, "name": e.replace("_", " ").capitalize()}
                     for e in spec["asyncEvents"]],
        syncEvents=[{"eventType": e, "name": e.replace("_", " ").capitalize()}
                    for e in spec["syncEvents"]],
        events=[{"eventType": e, "name": e} for e in spec["asyncEvents"]])
    app["webhooks"].append(webhook)
    return webhook


def remove_app(store: Store, app: Rec) -> None:
    for webhook in app["webhooks"]:
        store.delete(webhook)
    store.delete(app)
    app["isActive"] = False


def install_app(store: Store, schema: SandboxSchema, manifest_url: str, *, api_url: str,
                domain: str, webhook_secret: str | None = None,
                timeout: float = 10.0) -> InstalledApp:
    require_loopback_url(manifest_url)
    http = outbound_session()
    try:
        response = http.get(manifest_url, headers={"Saleor-Schema-Version": SCHEMA_VERSION},
                                timeout=timeout, allow_redirects=False)
    except requests.RequestException as failure:
        raise InstallError(f"Unable to fetch manifest: {failure}") from None
    if response.status_code != 200:
        raise InstallError(f"Unable to fetch manifest: HTTP {response.status_code}.")
    try:
        manifest = response.json()
    except ValueError:
        raise InstallError("Incorrect structure of manifest: not JSON.") from None
    cleaned = clean_manifest(manifest, schema)
    with store.lock:
        if any(a.get("identifier") == cleaned["identifier"] for a in store.all("App")):
            raise InstallError("App with the same identifier is already installed: "
                               f"{cleaned['identifier']}")
        extra = {k: cleaned[k] for k in ("version", "appUrl", "author", "aboutApp",
                                          "homepageUrl", "supportUrl", "configurationUrl",
                                          "dataPrivacyUrl")}
        app, token = create_app(store, name=cleaned["name"], permissions=cleaned["permissions"],
                                identifier=cleaned["identifier"], manifest_url=manifest_url,
                                **extra)
        webhooks = [add_webhook(store, app, spec, webhook_secret)
                    for spec in cleaned["webhooks"]]
    headers = {"Content-Type": "application/json", "X-Saleor-Domain": domain,
               "Saleor-Domain": domain, "Saleor-Api-Url": api_url,
               "Saleor-Schema-Version": SCHEMA_VERSION}
    problem: str | None = None
    try:
        answer = http.post(cleaned["tokenTargetUrl"], json={"auth_token": token},
                               headers=headers, timeout=timeout, allow_redirects=False)
        if not 200 <= answer.status_code < 300:
            problem = f"HTTP {answer.status_code}"
    except requests.RequestException as error:
        problem = str(error)
    http.close()
    if problem is not None:
        with store.lock:
            remove_app(store, app)
        raise InstallError(f"The app did not accept its token at tokenTargetUrl: {problem}")
    return InstalledApp(id=app["id"], identifier=cleaned["identifier"], name=app["name"],
                        token=token, permissions=tuple(app["_permissions"]),
                        webhook_ids=tuple(w["id"] for w in webhooks))
