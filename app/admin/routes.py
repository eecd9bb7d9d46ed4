"""Pages of the local system administrator (Lokal systemadministratör) of the acting unit: staff and
roles (OG-4-a), opening hours and cover (OG-9.2), regional and local phrase templates (OG-8.2), and
the unit's local routines (Unit.settings, "Verksamheten beslutar om lokal rutin").

Routes parse the form, call one service and render; one transaction per action, committed here with
the service's audit record. A refusal (403) is rolled back and the attempt audited on its own.
"""

from __future__ import annotations

from datetime import date, time

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import format_decimal
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from app.admin import services, settings_services, unit_services
from app.admin import unit_setting_catalog as catalog
from app.auth.current import current_actor
from app.db import get_database, request_session
from app.errors import Conflict, DomainError, Forbidden, GuardRefused, NotFound, ValidationFailed
from app.ids import bounded_big_version, bounded_id
from app.people.labels import ROLE_LABELS, WEEKDAYS
from app.phrases.defaults import PURPOSES

bp = Blueprint(
    "admin",
    __name__,
    url_prefix="/admin",
    template_folder="templates",
    static_folder="static",
    static_url_path="/static/admin",
)

LEVEL_LABELS = {"regional": _l("Regional"), "local": _l("Lokal")}
STATUS_LABELS = {"draft": _l("Utkast"), "published": _l("Publicerad"), "retired": _l("Tillbakadragen")}
FIELD_TEXTS = {
    "username": _l(
        "Användarnamn: 2–80 tecken, små bokstäver, siffror, punkt, bindestreck; inte redan upptaget."
    ),
    "given_name": _l("Skriv förnamnet (1–80 tecken)."),
    "family_name": _l("Skriv efternamnet (1–80 tecken)."),
    "title": _l("Titeln får vara högst 120 tecken."),
    "email": _l("Skriv en e-postadress."),
    "role": _l("Välj en roll."),
    "first_day": _l("Täckningen ordnas innan den börjar: tidigast från i morgon."),
    "last_day": _l("Sista dagen ska vara samma dag eller efter första dagen, högst 62 dagar."),
    "note": _l("Anteckningen får vara högst 500 tecken."),
    "level": _l("Välj regional eller lokal."),
    "purpose": _l("Välj vad frasmallen används till."),
    "text": _l("Skriv frasmallens text."),
}
CLOSING_REFUSED = _l(
    "En enhet kan inte stängas i tjänsten (OG-9.2). Be en annan enhet hålla tjänsten öppen för er: "
    "ordna täckning nedan, så får den enhetens personal behörighet innan perioden börjar."
)


@bp.context_processor
def _labels():
    return {
        "role_labels": ROLE_LABELS,
        "weekdays": WEEKDAYS,
        "level_labels": LEVEL_LABELS,
        "status_labels": STATUS_LABELS,
    }


@bp.errorhandler(Forbidden)
def _forbidden(error: Forbidden):
    """Not this unit's administrator: 403, and the attempt in the audit trail (own transaction)."""
    request_session().rollback()
    actor = current_actor(required=False)
    with get_database().transaction() as fresh:
        services.record_refusal(fresh, actor=actor, path=request.path, reason=error.message)
    message = _("Administrationen är till för enhetens lokala systemadministratör.")
    return render_template("error.html", status=403, message=message), 403


def _field_errors(error: ValidationFailed) -> dict[str, str]:
    return {name: str(FIELD_TEXTS.get(name, _("Kontrollera fältet."))) for name in error.field_errors}


# --- staff and roles (OG-4-a) ------------------------------------------------------------------


def _render_staff(
    *,
    error: str | None = None,
    field_errors: dict | None = None,
    values: dict | None = None,
    status: int = 200,
):
    actor = current_actor()
    db = request_session()
    staff = services.unit_staff(db, actor=actor)
    unit = services.require_sysadmin(db, actor=actor)
    return (
        render_template(
            "admin/staff.html", staff=staff, unit_name=unit.name, roles=list(ROLE_LABELS), error=error,
            field_errors=field_errors or {}, values=values or {},
        ),
        status,
    )  # fmt: skip


@bp.get("")
def index():
    """The unit's staff with their roles; add a user, add or remove a role, end an employment."""
    return _render_staff()


def _act(
    action,
    *,
    notice: str,
    conflict: str,
    refused: str | None = None,
    rerender=_render_staff,
    values: dict | None = None,
):
    """Run one service call as the request's transaction; refusals re-render the page with the reason."""
    db = request_session()
    try:
        action(db)
    except Forbidden:
        raise
    except ValidationFailed as error:
        db.rollback()
        return rerender(
            error=_("Rätta fälten som är markerade."),
            field_errors=_field_errors(error),
            values=values,
            status=422,
        )
    except GuardRefused as error:
        db.rollback()
        return rerender(error=refused or error.message, values=values, status=error.status)
    except Conflict:
        db.rollback()
        return rerender(error=conflict, values=values, status=409)
    except NotFound:
        db.rollback()
        return rerender(error=_("Det du valde finns inte längre. Ladda om sidan."), values=values, status=404)
    except DomainError as error:
        db.rollback()
        return rerender(error=error.message, values=values, status=error.status)
    db.commit()
    flash(notice)
    return None


@bp.post("/users")
def add_user():
    form = {
        k: request.form.get(k, "")
        for k in ("username", "given_name", "family_name", "title", "email", "role")
    }
    actor = current_actor()
    failed = _act(
        lambda db: services.add_user(db, actor=actor, **form),
        notice=_("Användaren är tillagd."),
        conflict=_("Användaren ändrades samtidigt av någon annan. Ladda om sidan."),
        values=form,
    )
    return failed or redirect(url_for("admin.index"))


@bp.post("/users/<id:user_id>/roles")
def add_role(user_id: int):
    actor = current_actor()
    role = request.form.get("role", "")
    failed = _act(
        lambda db: services.add_role(db, actor=actor, user_id=user_id, role=role),
        notice=_("Rollen är tillagd."),
        conflict=_("Användaren har redan den rollen på enheten."),
    )
    return failed or redirect(url_for("admin.index"))


@bp.post("/memberships/<id:membership_id>/remove")
def remove_role(membership_id: int):
    actor = current_actor()
    failed = _act(
        lambda db: services.remove_role(db, actor=actor, membership_id=membership_id),
        notice=_("Rollen är borttagen."),
        conflict=_("Rollen var redan borttagen, kanske av en annan administratör. Listan visar läget nu."),
        refused=_("Du kan inte ta bort din egen administratörsroll. Be en annan administratör."),
    )
    return failed or redirect(url_for("admin.index"))


@bp.post("/users/<id:user_id>/end-employment")
def end_employment(user_id: int):
    actor = current_actor()
    if request.form.get("confirmed") != "1":
        return _render_staff(error=_("Bekräfta att anställningen ska avslutas."), status=422)
    failed = _act(
        lambda db: services.end_employment(db, actor=actor, user_id=user_id),
        notice=_("Anställningen är avslutad. Användarens loggar och journalanteckningar finns kvar."),
        conflict=_(
            "Anställningen var redan avslutad, kanske av en annan administratör. Listan visar läget nu."
        ),
        refused=_("Du kan inte avsluta din egen anställning. Be en annan administratör."),
    )
    return failed or redirect(url_for("admin.index"))


# --- opening hours and cover (OG-9.2) ----------------------------------------------------------


def _render_hours(
    *,
    conflict: bool = False,
    error: str | None = None,
    field_errors: dict | None = None,
    values: dict | None = None,
    status: int = 200,
):
    settings = unit_services.unit_settings(request_session(), actor=current_actor())
    return (
        render_template(
            "admin/hours.html",
            settings=settings,
            conflict=conflict,
            error=error,
            field_errors=field_errors or {},
            values=values or {},
        ),
        status,
    )


@bp.get("/hours")
def hours_page():
    """Weekly opening hours, covers to come, and arranging cover by another unit."""
    return _render_hours()


def _parse_weekly(form) -> tuple[dict[int, list[tuple[time, time]]], dict[str, str]]:
    weekly: dict[int, list[tuple[time, time]]] = {}
    errors: dict[str, str] = {}
    for day in range(7):
        for slot in (0, 1):
            opens, closes = (
                form.get(f"d{day}_{slot}_opens", "").strip(),
                form.get(f"d{day}_{slot}_closes", "").strip(),
            )
            if not opens and not closes:
                continue
            try:
                span = (time.fromisoformat(opens), time.fromisoformat(closes))
            except ValueError:
                errors[f"d{day}_{slot}"] = _("Skriv tider som 08:00 och 17:00.")
                continue
            if span[0] >= span[1]:
                errors[f"d{day}_{slot}"] = _("Stängningstiden ska vara efter öppningstiden.")
                continue
            weekly.setdefault(day, []).append(span)
    return weekly, errors


@bp.post("/hours")
def set_hours():
    actor = current_actor()
    weekly, errors = _parse_weekly(request.form)
    values = dict(request.form)
    if errors:
        return _render_hours(
            error=_("Rätta fälten som är markerade."), field_errors=errors, values=values, status=422
        )
    db = request_session()
    try:
        unit_services.set_opening_hours(
            db,
            actor=actor,
            weekly=weekly,
            expected_version=request.form.get("expected_version", type=bounded_big_version),
        )
    except Conflict:
        db.rollback()
        # The typed hours stay in the form, now against the saved version, beside the hours saved meanwhile.
        values.pop("expected_version", None)
        message = _(
            "Öppettiderna ändrades av någon annan medan du redigerade. Jämför med de sparade tiderna nedan och spara igen om dina ska gälla."
        )
        return _render_hours(error=message, values=values, conflict=True, status=409)
    except ValidationFailed:
        db.rollback()
        message = _("En dags två intervall får inte överlappa: det andra börjar när det första har stängt.")
        return _render_hours(error=message, values=values, status=422)
    except GuardRefused as error:
        # OG-9.2: hours that close the unit, or close days ahead nobody covers, are the same attempt as closing.
        db.rollback()
        unit_services.record_closing_refused(db, actor=actor, via="hours", days=error.details.get("days", []))
        db.commit()
        return _render_hours(error=str(CLOSING_REFUSED), values=values, status=422)
    db.commit()
    flash(_("Öppettiderna är sparade."))
    return redirect(url_for("admin.hours_page"))


def _date(value: str) -> date | None:
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        return None


@bp.post("/cover")
def arrange_cover():
    actor = current_actor()
    values = dict(request.form)
    first, last = _date(request.form.get("first_day", "")), _date(request.form.get("last_day", ""))
    errors = {}
    if first is None:
        errors["first_day"] = _("Skriv första dagen som ÅÅÅÅ-MM-DD.")
    if last is None:
        errors["last_day"] = _("Skriv sista dagen som ÅÅÅÅ-MM-DD.")
    if errors:
        return _render_hours(
            error=_("Rätta fälten som är markerade."), field_errors=errors, values=values, status=422
        )
    covering = request.form.get("covering_unit_id", type=bounded_id)
    db = request_session()
    try:
        unit_services.arrange_cover(
            db,
            actor=actor,
            first_day=first,
            last_day=last,
            covering_unit_id=covering,
            expected_version=request.form.get("expected_version", type=bounded_big_version),
            note=request.form.get("note", "").strip(),
        )
    except Conflict as error:
        db.rollback()
        values.pop("expected_version", None)
        existing = error.details.get("existing")
        if existing:  # OG-9.2: an arranged cover is never silently replaced by another unit's
            message = _(
                "Täckning av en annan enhet är redan ordnad: %(days)s. Den ersätts inte; välj andra dagar.",
                days=", ".join(f"{day} ({name})" for day, name in existing),
            )
        else:
            message = _(
                "Öppettiderna eller täckningen ändrades av någon annan medan du redigerade. Se läget nedan och försök igen."
            )
        return _render_hours(error=message, values=values, conflict=True, status=409)
    except GuardRefused as error:
        db.rollback()
        if covering is not None and "covering_unit_id" in error.details:  # OG-9.2: closed that day
            message = _(
                "Den valda enheten har stängt %(day)s och kan inte hålla tjänsten öppen då: välj en enhet som har öppet.",
                day=error.details.get("day", ""),
            )
            return _render_hours(error=message, values=values, status=422)
        if covering is not None and error.details.get("covers_for"):
            message = _(
                "Enheten håller tjänsten öppen för en annan enhet %(day)s och kan inte själv stängas den dagen.",
                day=error.details.get("day", ""),
            )
            return _render_hours(error=message, values=values, status=422)
        if covering is not None:  # a unit that cannot cover (itself, or not activated in the service)
            message = _("Den valda enheten kan inte täcka: välj en annan enhet som är aktiverad i tjänsten.")
            return _render_hours(error=message, values=values, status=422)
        unit_services.record_closing_refused(
            db, actor=actor, first_day=first.isoformat(), last_day=last.isoformat()
        )
        db.commit()
        return _render_hours(error=str(CLOSING_REFUSED), values=values, status=422)
    except Forbidden:
        raise
    except ValidationFailed as error:
        db.rollback()
        return _render_hours(
            error=_("Rätta fälten som är markerade."),
            field_errors=_field_errors(error),
            values=values,
            status=422,
        )
    db.commit()
    flash(_("Täckningen är ordnad. Den andra enhetens personal har behörighet de dagarna."))
    return redirect(url_for("admin.hours_page"))


@bp.post("/close")
def close_unit():
    """An attempt to close the unit: always refused (OG-9.2) and audited."""
    actor = current_actor()
    db = request_session()
    try:
        unit_services.close_unit(db, actor=actor)
    except GuardRefused:
        db.rollback()
        unit_services.record_closing_refused(db, actor=actor, via="close")
        db.commit()
    return _render_hours(error=str(CLOSING_REFUSED), status=422)


# --- phrase templates (OG-8.2) ------------------------------------------------------------------


def _render_phrases(
    *,
    error: str | None = None,
    field_errors: dict | None = None,
    values: dict | None = None,
    status: int = 200,
):
    actor = current_actor()
    db = request_session()
    templates = unit_services.phrase_templates(db, actor=actor)
    heads = unit_services.heads_of_unit(db, actor=actor)
    return (
        render_template(
            "admin/phrases.html", templates=templates, heads=heads, purposes=PURPOSES, error=error,
            field_errors=field_errors or {}, values=values or {},
        ),
        status,
    )  # fmt: skip


@bp.get("/phrases")
def phrases_page():
    """Regional and local phrase templates: write a draft, publish, retire."""
    return _render_phrases()


@bp.post("/phrases")
def draft_phrase():
    actor = current_actor()
    values = {k: request.form.get(k, "") for k in ("level", "purpose", "title", "text", "decided_by_user_id")}
    failed = _act(
        lambda db: unit_services.draft_template(
            db, actor=actor, level=values["level"], purpose=values["purpose"], title=values["title"], text=values["text"],
            decided_by_user_id=request.form.get("decided_by_user_id", type=bounded_id),
        ),
        notice=_("Utkastet är sparat. Publicera det när det är klart."),
        conflict=_("Frasmallen ändrades samtidigt av någon annan. Ladda om sidan."),
        refused=_("En lokal frasmall beslutas av enhetens verksamhetschef. Välj verksamhetschefen."),
        rerender=_render_phrases,
        values=values,
    )  # fmt: skip
    return failed or redirect(url_for("admin.phrases_page"))


@bp.post("/phrases/<id:template_id>/publish")
def publish_phrase(template_id: int):
    actor = current_actor()
    failed = _act(
        lambda db: unit_services.publish_template(db, actor=actor, template_id=template_id),
        notice=_("Frasmallen är publicerad och ersätter den tidigare för samma ändamål."),
        conflict=_(
            "Frasmallen är inte längre ett utkast, kanske publicerad av någon annan. Listan visar läget nu."
        ),
        refused=_("En lokal frasmall beslutas av enhetens verksamhetschef innan den publiceras."),
        rerender=_render_phrases,
    )
    return failed or redirect(url_for("admin.phrases_page"))


@bp.post("/phrases/<id:template_id>/retire")
def retire_phrase(template_id: int):
    actor = current_actor()
    failed = _act(
        lambda db: unit_services.retire_template(db, actor=actor, template_id=template_id),
        notice=_("Frasmallen är tillbakadragen."),
        conflict=_("Frasmallen var redan tillbakadragen. Listan visar läget nu."),
        rerender=_render_phrases,
    )
    return failed or redirect(url_for("admin.phrases_page"))


# --- local routines (Unit.settings) --------------------------------------------------------------


def _shown(setting: catalog.Setting, value) -> str:
    """A setting's value as text for the page (numbers in the reader's locale, roles by their label)."""
    if value is None or value == "":
        return _("inget angivet")
    if setting.kind is catalog.Kind.BOOLEAN:
        return _("Ja") if value else _("Nej")
    if setting.kind in (catalog.Kind.INTEGER, catalog.Kind.DECIMAL):
        number = format_decimal(value)
        return f"{number} {setting.suffix}" if setting.suffix else number
    if setting.kind is catalog.Kind.ROLE_MAP:
        value = catalog.effective(setting, {setting.key: value})
        if all(targets == list(catalog.HANDOVER_DEFAULT_TARGETS) for targets in value.values()):
            return _("varje roll får lämna över till alla roller")
        return "; ".join(
            f"{ROLE_LABELS[role]} → {', '.join(str(ROLE_LABELS[t]) for t in targets)}"
            for role, targets in value.items()
        )
    if setting.kind is catalog.Kind.ROLE_SET:
        return ", ".join(str(ROLE_LABELS[role]) for role in catalog.effective(setting, {setting.key: value}))
    return str(value)


def _input_value(state: settings_services.SettingState) -> str:
    setting = state.setting
    if setting.kind in (catalog.Kind.INTEGER, catalog.Kind.DECIMAL):
        return format_decimal(state.value)
    if not state.is_set:
        return ""  # an empty text field means "the default"
    return str(state.value)


def _routine_groups(page: settings_services.RoutineSettings, typed: dict, field_errors: dict) -> list[dict]:
    """The page's fieldsets: each setting with its value, the default and what was typed."""
    groups: dict[catalog.Group, list[dict]] = {}
    for state in page.states:
        setting = state.setting
        row = {
            "key": setting.key,
            "kind": setting.kind.value,
            "label": setting.label,
            "help": setting.help,
            "suffix": setting.suffix,
            "max_length": setting.max_length,
            "is_set": state.is_set,
            "current": _shown(setting, state.value),
            "default": _shown(setting, state.default),
            "error": field_errors.get(setting.key),
        }
        if setting.kind is catalog.Kind.ROLE_MAP:
            ticked = typed.get(setting.key) or state.value
            row["matrix"] = [
                {
                    "from": role,
                    "label": ROLE_LABELS[role],
                    "field": catalog.role_field(role),
                    "index": i,
                    "targets": [
                        {"role": t, "label": ROLE_LABELS[t], "index": j, "checked": t in ticked.get(role, [])}
                        for j, t in enumerate(catalog.HANDOVER_ROLES)
                    ],
                }
                for i, role in enumerate(catalog.HANDOVER_ROLES)
            ]
        elif setting.kind is catalog.Kind.ROLE_SET:
            ticked = typed.get(setting.key, state.value)
            row["choices"] = [
                {"role": role, "label": ROLE_LABELS[role], "index": i, "checked": role in ticked}
                for i, role in enumerate(catalog.ROLE_SET_CHOICES)
            ]
        elif setting.kind is catalog.Kind.BOOLEAN:
            row["checked"] = typed[setting.key] if setting.key in typed else bool(state.value)
        else:
            row["value"] = typed[setting.key] if setting.key in typed else _input_value(state)
        groups.setdefault(setting.group, []).append(row)
    return [
        {"legend": catalog.GROUP_LEGENDS[group], "id": group.value, "rows": rows}
        for group, rows in groups.items()
    ]


def _render_routines(
    *,
    typed: dict | None = None,
    field_errors: dict | None = None,
    error: str | None = None,
    changes: list | None = None,
    form_version: tuple[str, str] | None = None,
    status: int = 200,
):
    page = settings_services.routine_settings(request_session(), actor=current_actor())
    field_errors = field_errors or {}
    version, shown = form_version or (page.version, page.shown)
    conflict = None
    if changes is not None:
        conflict = [
            {
                "label": catalog.BY_KEY[c.key].label,
                "seen": _shown(catalog.BY_KEY[c.key], c.seen) if c.seen is not None else _("standard"),
                "now": _shown(catalog.BY_KEY[c.key], c.now) if c.now is not None else _("standard"),
            }
            for c in changes
        ]
    summary = [
        {
            "href": f"#f-{key}-0-0" if catalog.BY_KEY[key].kind is catalog.Kind.ROLE_MAP else f"#f-{key}",
            "label": catalog.BY_KEY[key].label,
            "message": message,
        }
        for key, message in field_errors.items()
    ]
    return (
        render_template(
            "admin/routines.html",
            unit_name=page.unit_name,
            groups=_routine_groups(page, typed or {}, field_errors),
            version=version,
            shown=shown,
            summary=summary,
            routine_error=error,
            conflict=conflict,
        ),
        status,
    )


@bp.get("/routines")
def routines_page():
    """The unit's local routines: each setting with its value or default, editable, resettable."""
    return _render_routines()


@bp.post("/routines")
def save_routines():
    actor = current_actor()
    db = request_session()
    form_version = (request.form.get("version", ""), request.form.get("shown", ""))
    try:
        changes = settings_services.change_routine_settings(
            db, actor=actor, form=request.form, expected_version=form_version[0], shown=form_version[1]
        )
    except ValidationFailed as error:
        db.rollback()
        return _render_routines(
            typed=error.details.get("typed"),
            field_errors={key: str(messages[0]) for key, messages in error.field_errors.items()},
            error=_("Inställningarna sparades inte. Rätta fälten som är markerade."),
            form_version=form_version,  # still against what the page showed
            status=422,
        )
    except settings_services.SettingsChangedMeanwhile as conflict:
        db.rollback()
        # The typed values stay, now against the saved version: saving again is a deliberate choice.
        message = _(
            "Någon annan ändrade enhetens rutiner medan du redigerade. Inget sparades. Jämför med ändringarna nedan och spara igen om dina värden ska gälla."
        )
        return _render_routines(typed=conflict.typed, error=message, changes=conflict.changes, status=409)
    db.commit()
    flash(_("Enhetens rutiner är sparade.") if changes else _("Inget ändrades."))
    return redirect(url_for("admin.routines_page"))


@bp.post("/routines/reset")
def reset_routine():
    actor = current_actor()
    db = request_session()
    key = request.form.get("key", "")
    try:
        changes = settings_services.reset_routine_setting(
            db,
            actor=actor,
            key=key,
            expected_version=request.form.get("version", ""),
            shown=request.form.get("shown", ""),
        )
    except settings_services.SettingsChangedMeanwhile as conflict:
        db.rollback()
        message = _(
            "Någon annan ändrade enhetens rutiner medan du läste sidan. Inget återställdes. Se ändringarna nedan och försök igen."
        )
        return _render_routines(error=message, changes=conflict.changes, status=409)
    except NotFound:
        db.rollback()
        return _render_routines(error=_("Den inställningen finns inte. Ladda om sidan."), status=404)
    db.commit()
    label = catalog.BY_KEY[key].label
    flash(
        _("%(label)s: standardvärdet gäller nu.", label=label)
        if changes
        else _("%(label)s: standardvärdet gällde redan.", label=label)
    )
    return redirect(url_for("admin.routines_page"))
