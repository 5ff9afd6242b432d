"""Settings sections for what tablets capture and how leads are judged and routed.

Questions, products, the scoring rubric and routing, each as a form of rows
(server/web/form_rows.py) that becomes the same JSON the API takes, validated by the
API's schemas and stored by the events service (server/web/settings_sections.py).
"""

from __future__ import annotations

from typing import Any

from flask import flash
from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from server.events.models import Event
from server.extensions import db
from server.users.models import Role, User
from server.web.form_rows import lines, phrases, row_errors, rows, slug, words
from server.web.settings_sections import Section, register, save_event_fields
from sync.questions import CHOICE_TYPES, QUESTION_TYPES

CONDITIONS = {
    "equals": "is",
    "at_least": "is at least",
    "includes": "includes",
}
ROUTING_TYPES = {
    "territory": "Territory (countries or regions)",
    "product": "Product of interest",
    "named_account": "Named account (company or email domain)",
}
YES = {"yes", "y", "true", "1", "ja"}
NO = {"no", "n", "false", "0", "nein"}


def _describe(noun: str) -> Any:
    def describe(name: str, value: Any) -> list[str]:
        return row_errors(value, noun)

    return describe


# --- questions -------------------------------------------------------------------------------


def _questions_values(event: Event) -> dict[str, Any]:
    return {
        "questions": [
            {**question, "locked": "1", "options": question.get("options") or []}
            for question in event.questions or []
        ]
    }


def _save_questions(form: MultiDict[str, str], event: Event, author: User) -> None:
    posted = rows(form, "questions", preset=("type",))
    taken = {row["id"] for row in posted if row.get("id")}
    questions, shown = [], []
    for row in posted:
        question_id = row.get("id") or slug(row.get("label", ""), taken)
        taken.add(question_id)
        question: dict[str, Any] = {
            "id": question_id,
            "label": row.get("label", ""),
            "type": row.get("type", ""),
            "required": bool(row.get("required")),
        }
        options = lines(row.get("options", ""))
        if options or question["type"] in CHOICE_TYPES:
            question["options"] = options
        questions.append(question)
        shown.append({**question, "options": options, "locked": row.get("locked", "")})
    save_event_fields(
        event,
        {"questions": questions},
        author,
        describe=_describe("Question"),
        shown={"questions": shown},
    )
    _warn_of_unused_rules(event)


def _warn_of_unused_rules(event: Event) -> None:
    """Say which rubric rules no longer match anything (their question or product is gone)."""
    questions = {question["id"] for question in event.questions or []}
    products = {product["id"] for product in event.products or []}
    gone = sorted(
        {
            rule.get("question") or rule.get("product")
            for rule in (event.rubric or {}).get("rules", [])
            if ("question" in rule and rule["question"] not in questions)
            or ("product" in rule and rule["product"] not in products)
        }
    )
    if gone:
        flash(
            "The scoring rubric still has rules on " + ", ".join(gone) + ", which this event"
            " no longer has: they score nothing until you change them under Scoring rubric.",
            "error",
        )


register(
    Section(
        key="questions",
        title="Questions",
        template="web/settings/questions.html",
        values=_questions_values,
        save=_save_questions,
        context=lambda event: {"question_types": QUESTION_TYPES, "choice_types": CHOICE_TYPES},
        saved="Questions saved; tablets get them at their next sync.",
        position=10,
    )
)


# --- products --------------------------------------------------------------------------------


def _products_values(event: Event) -> dict[str, Any]:
    return {"products": [{**product, "locked": "1"} for product in event.products or []]}


def _save_products(form: MultiDict[str, str], event: Event, author: User) -> None:
    posted = rows(form, "products")
    taken = {row["id"] for row in posted if row.get("id")}
    products, shown = [], []
    for row in posted:
        product_id = row.get("id") or slug(row.get("name", ""), taken)
        taken.add(product_id)
        product = {"id": product_id, "name": row.get("name", "")}
        if row.get("material_url"):
            product["material_url"] = row["material_url"]
        products.append(product)
        shown.append({**product, "locked": row.get("locked", "")})
    save_event_fields(
        event,
        {"products": products},
        author,
        describe=_describe("Product"),
        shown={"products": shown},
    )
    _warn_of_unused_rules(event)


register(
    Section(
        key="products",
        title="Products",
        template="web/settings/products.html",
        values=_products_values,
        save=_save_products,
        saved="Products saved; tablets get them at their next sync.",
        position=20,
    )
)


# --- rubric ----------------------------------------------------------------------------------


def _value_text(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return "" if value is None else str(value)


def _rubric_values(event: Event) -> dict[str, Any]:
    rubric = event.rubric or {}
    rules = []
    for rule in rubric.get("rules", []):
        condition = next((key for key in CONDITIONS if key in rule), "equals")
        target = (
            f"product:{rule['product']}" if "product" in rule else f"question:{rule['question']}"
        )
        rules.append(
            {
                "target": target,
                "condition": condition,
                "value": _value_text(rule.get(condition)) if "question" in rule else "",
                "points": str(rule.get("points", "")),
                "reason": rule.get("reason") or "",
            }
        )
    return {
        "hot": str(rubric.get("hot", 60)),
        "warm": str(rubric.get("warm", 30)),
        "rules": rules,
        "version": rubric.get("version", 0),
    }


def _number(text: str) -> Any:
    try:
        number = float(text)
    except ValueError:
        return text  # the schema says what is wrong with it
    return int(number) if number.is_integer() and "." not in text else number


def _integer(text: str) -> Any:
    text = text.strip()
    return int(text) if text.lstrip("-").isdigit() else (text or None)


def _rule(row: dict[str, Any], questions: dict[str, Any], number: int) -> tuple[dict, list[str]]:
    kind, _, name = row.get("target", "").partition(":")
    rule: dict[str, Any] = {"points": _integer(row.get("points", ""))}
    problems: list[str] = []
    if kind == "product":
        rule["product"] = name
    elif kind == "question":
        rule["question"] = name
        condition = row.get("condition") or "equals"
        value_text = row.get("value", "")
        question_type = (questions.get(name) or {}).get("type")
        if condition == "at_least" or (condition == "equals" and question_type == "number"):
            value: Any = _number(value_text)
        elif condition == "equals" and question_type == "yes_no":
            folded = value_text.casefold()
            value = True if folded in YES else False if folded in NO else value_text
            if not isinstance(value, bool):
                problems.append(f"Rule {number}: answer yes or no for a yes/no question.")
        else:
            value = value_text
        if condition in CONDITIONS:
            rule[condition] = value
        else:
            problems.append(f"Rule {number}: choose how the answer is compared.")
    else:
        problems.append(f"Rule {number}: choose a question or a product.")
    if rule["points"] is None:
        problems.append(f"Rule {number}: give the points.")
    if row.get("reason"):
        rule["reason"] = row["reason"]
    return rule, problems


def _save_rubric(form: MultiDict[str, str], event: Event, author: User) -> None:
    questions = {question["id"]: question for question in event.questions or []}
    posted = rows(form, "rules", preset=("condition", "target"))
    rules, problems = [], []
    for number, row in enumerate(posted, start=1):
        rule, found = _rule(row, questions, number)
        rules.append(rule)
        problems += found
    rubric = {
        "hot": _integer(form.get("hot", "")),
        "warm": _integer(form.get("warm", "")),
        "rules": rules,
    }
    shown = {
        "hot": form.get("hot", ""),
        "warm": form.get("warm", ""),
        "rules": posted,
        "version": (event.rubric or {}).get("version", 0),
    }

    def describe(name: str, value: Any) -> list[str]:
        if isinstance(value, dict):
            found = row_errors(value.pop("rules", {}), "Rule")
            return found + row_errors(value, "Rubric")
        return [str(line) for line in value]

    save_event_fields(
        event, {"rubric": rubric}, author, problems=problems, describe=describe, shown=shown
    )


def _rubric_context(event: Event) -> dict[str, Any]:
    targets = [
        (f"question:{question['id']}", f"Question: {question['label']}")
        for question in event.questions or []
    ] + [(f"product:{product['id']}", f"Product: {product['name']}") for product in event.products]
    return {"targets": targets, "conditions": CONDITIONS}


register(
    Section(
        key="rubric",
        title="Scoring rubric",
        template="web/settings/rubric.html",
        values=_rubric_values,
        save=_save_rubric,
        context=_rubric_context,
        saved="Rubric saved as a new version; new leads are scored with it.",
        position=30,
    )
)


# --- routing ---------------------------------------------------------------------------------


def _people(*roles: Role) -> list[User]:
    query = select(User).where(User.active, User.role.in_(roles)).order_by(User.name, User.id)
    return list(db.session.scalars(query))


def _routing_values(event: Event) -> dict[str, Any]:
    routing = event.routing or {}
    shown = []
    for rule in routing.get("rules", []):
        reps = [rule["rep_id"]] if rule.get("rep_id") else rule.get("rep_ids", [])
        shown.append(
            {
                "type": rule.get("type", ""),
                "countries": ", ".join(rule.get("countries", [])),
                "regions": ", ".join(rule.get("regions", [])),
                "products": list(rule.get("products", [])),
                "domains": ", ".join(rule.get("domains", [])),
                "companies": ", ".join(rule.get("companies", [])),
                "reps": [str(rep_id) for rep_id in reps],
            }
        )
    return {
        "rules": shown,
        "fallback_owner_id": str(routing.get("fallback_owner_id") or ""),
        "backup_owner_id": str(routing.get("backup_owner_id") or ""),
    }


def _ids(values: list[str]) -> list[int]:
    return [int(value) for value in values if value.isdigit()]


def _routing_rule(row: dict[str, Any], number: int) -> tuple[dict[str, Any], list[str]]:
    kind = row.get("type", "")
    reps = _ids(row.get("reps", []))
    rule: dict[str, Any] = {"type": kind}
    problems: list[str] = []
    if kind == "named_account":
        if row.get("domains"):
            rule["domains"] = [domain.lower() for domain in words(row["domains"])]
        if row.get("companies"):
            rule["companies"] = phrases(row["companies"])
        if len(reps) > 1:
            problems.append(f"Rule {number}: a named account goes to one rep.")
        if reps:
            rule["rep_id"] = reps[0]
    else:
        if kind == "territory":
            if row.get("countries"):
                rule["countries"] = [country.upper() for country in words(row["countries"])]
            if row.get("regions"):
                rule["regions"] = phrases(row["regions"])
        elif kind == "product":
            rule["products"] = row.get("products", [])
        rule["rep_ids"] = reps
    return rule, problems


def _save_routing(form: MultiDict[str, str], event: Event, author: User) -> None:
    posted = rows(form, "routing", multi=("reps", "products"), preset=("type",))
    rules, problems = [], []
    for number, row in enumerate(posted, start=1):
        rule, found = _routing_rule(row, number)
        rules.append(rule)
        problems += found
    routing: dict[str, Any] = {"rules": rules}
    for key in ("fallback_owner_id", "backup_owner_id"):
        chosen = form.get(key, "")
        routing[key] = int(chosen) if chosen.isdigit() else None
    shown = {
        "rules": posted,
        "fallback_owner_id": form.get("fallback_owner_id", ""),
        "backup_owner_id": form.get("backup_owner_id", ""),
    }

    def describe(name: str, value: Any) -> list[str]:
        if isinstance(value, dict):
            return row_errors(value.pop("rules", {}), "Rule") + row_errors(value, "Routing")
        return [str(line) for line in value]

    save_event_fields(
        event, {"routing": routing}, author, problems=problems, describe=describe, shown=shown
    )


register(
    Section(
        key="routing",
        title="Routing",
        template="web/settings/routing.html",
        values=_routing_values,
        save=_save_routing,
        context=lambda event: {
            "reps": _people(Role.REP),
            "owners": _people(Role.REP, Role.MARKETER, Role.ADMIN),
            "routing_types": ROUTING_TYPES,
            "event_products": event.products or [],
        },
        saved="Routing saved; it applies to the next lead that arrives.",
        position=40,
    )
)
