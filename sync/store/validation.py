"""Checking lead fields before they are stored, and reading server payloads."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from sync.bounds import id_problem, json_problem
from sync.contact import ContactError, is_country_code, normalise_email, normalise_phone
from sync.questions import drop_blank_answers
from sync.store.base import StoreBase
from sync.store.errors import FieldError, LeadInvalid
from sync.store.fields import (
    CREATE_FIELDS,
    PLAIN_TEXT,
    answer_problems,
    clean_consent,
    clean_text,
    parse_aware,
)


class ValidationMixin(StoreBase):
    """Turn given or pulled lead fields into the form the store keeps."""

    def _clean(
        self, fields: Mapping[str, Any], event: Mapping[str, Any] | None, allowed: Iterable[str]
    ) -> dict[str, Any]:
        """Return fields in the form the store keeps them; raise LeadInvalid with all errors."""
        allowed = set(allowed)
        event = event or {}
        errors: dict[str, Any] = {}
        cleaned: dict[str, Any] = {}
        for name, value in fields.items():
            if name not in allowed:
                known = name in CREATE_FIELDS
                errors[name] = [
                    "This field cannot be changed after the server accepted the lead."
                    if known
                    else "This is not a lead field."
                ]
                continue
            try:
                cleaned[name] = self._clean_one(name, value, event)
            except FieldError as error:
                errors[name] = error.message if isinstance(error.message, dict) else [error.message]
        if errors:
            raise LeadInvalid(errors)
        return cleaned

    def _clean_one(self, name: str, value: Any, event: Mapping[str, Any]) -> Any:
        if name in PLAIN_TEXT:
            return clean_text(value)
        if name == "email":
            email = clean_text(value)
            try:
                return normalise_email(email) if email else None
            except ContactError as error:
                raise FieldError(str(error)) from None
        if name == "phone":
            phone = clean_text(value)
            try:
                return normalise_phone(phone, event.get("country")) if phone else None
            except ContactError as error:
                raise FieldError(str(error)) from None
        if name == "country":
            country = clean_text(value)
            if country and not is_country_code(country):
                raise FieldError("Use an ISO 3166-1 alpha-2 country code, like DE or GB.")
            return country.upper() if country else None
        if name == "source":
            return clean_text(value) or "manual"
        if name == "rating":
            return clean_text(value)
        if name == "follow_up":
            if value is None:
                return False
            if not isinstance(value, bool):
                raise FieldError("Answer yes (true) or no (false).")
            return value
        if name == "answers":
            answers = {} if value is None else value
            if not isinstance(answers, Mapping):
                raise FieldError("Give the answers keyed by question id.")
            problems = answer_problems(event, answers)
            if problems:
                raise FieldError(problems)
            return drop_blank_answers(answers)
        if name == "products":
            products = [] if value is None else value
            if not isinstance(products, list) or not all(isinstance(p, str) for p in products):
                raise FieldError("Give a list of product ids.")
            problem = json_problem(products)
            if problem:
                raise FieldError(problem)
            return list(dict.fromkeys(products))
        if name == "consent":
            return clean_consent(value, event.get("consent_version") or None)
        if name == "captured_by_id":
            if id_problem(value):
                raise FieldError("Choose who captured the lead.")
            return value
        if name == "captured_at":
            return parse_aware(value).isoformat()
        raise AssertionError(f"no rule for {name}")  # pragma: no cover - _clean filters names

    def _server_values(self, values: Mapping[str, Any]) -> dict[str, Any]:
        """Return the known lead fields of a server payload in the store's form."""
        result = {}
        for name in CREATE_FIELDS:
            if name not in values:
                continue
            value = values[name]
            if name == "consent":
                consent = value or {"given": False}
                value = {
                    "given": bool(consent.get("given")),
                    "version": consent.get("version"),
                    "at": consent.get("at"),
                }
                # Servers with consent records send the language and purposes agreed to.
                for detail in ("language", "purposes"):
                    if consent.get(detail) is not None:
                        value[detail] = consent[detail]
            elif name == "answers":
                value = value or {}
            elif name == "products":
                value = value or []
            elif name == "follow_up":
                value = bool(value)
            elif name == "source":
                value = value or "manual"
            result[name] = value
        return result
