"""Staff accounts on the admin's kiosk page (item 8 of the hardening issue): disable and enable,
a new password, a new one-time-code secret (a lost phone), everyone's sessions ended. The same
acts as `telecart users …` (agent/cli.py), each audited under the admin's name."""

from __future__ import annotations

import time

from agent.access import accounts, otp, staff_codes
from agent.access.accounts import AccountError
from agent.access.passwords import MIN_LENGTH, WeakPassword
from agent.access.roles import LABELS_FR, Permission
from agent.api.context import services_of
from agent.api.errors import ApiError
from agent.api.registry import API
from agent.api.routing import Call
from agent.api.schemas.accounts import (
    AccountList,
    AccountOut,
    AccountPatch,
    CardLink,
    OtpEnrolment,
    PasswordIn,
    SessionsEnded,
    StaffContacts,
)

_TAGS = ("comptes",)


def _out(view: accounts.AccountView, allowed: list[str]) -> AccountOut:
    rpps = view.idnat[1:] if view.idnat and view.idnat.startswith("8") else view.idnat
    factors = staff_codes.factors_of({"email": view.email, "mobile": view.mobile}, allowed)
    return AccountOut(login=view.login, display_name=view.display_name, role=view.role.value, role_label=LABELS_FR[view.role],
                      disabled=view.disabled, sessions=view.sessions, created_at=view.created_at, rpps=rpps, email=view.email,
                      mobile=view.mobile, second_factors=factors)


async def _one(call: Call, login: str) -> AccountOut:
    found = [v for v in await services_of(call.request).store.read(accounts.overview, time.time()) if v.login == login]
    if not found:
        raise ApiError("not_found")
    return _out(found[0], services_of(call.request).config.security.second_factors)


async def _manage(call: Call, act, *args):  # noqa: ANN001, ANN002, ANN202 (an accounts.* function and its arguments)
    login = call.request.match_info["login"]
    try:
        return await services_of(call.request).store.write(act, login, *args)
    except AccountError as exc:  # the only AccountError here: no such account
        raise ApiError("not_found") from exc
    except WeakPassword as exc:
        raise ApiError("weak_password", minimum=MIN_LENGTH) from exc


@API.route("GET", "/accounts", summary="Les comptes du personnel (sans mot de passe ni secret)", tags=_TAGS,
           access=Permission.USERS_MANAGE, response=AccountList)
async def list_accounts(call: Call) -> AccountList:
    services = services_of(call.request)
    views = await services.store.read(accounts.overview, time.time())
    return AccountList(items=[_out(v, services.config.security.second_factors) for v in views])


@API.route("PATCH", "/accounts/{login}", summary="Désactiver (ses sessions se ferment) ou réactiver un compte", tags=_TAGS,
           access=Permission.USERS_MANAGE, body=AccountPatch, response=AccountOut, errors=(409,))
async def set_disabled(call: Call) -> AccountOut:
    by = call.actor.login

    def change(db, login: str) -> None:  # noqa: ANN001
        if call.body.disabled:
            accounts.refuse_lockout(login, by)
        accounts.set_disabled(db, login, call.body.disabled, by)

    await _manage(call, change)
    return await _one(call, call.request.match_info["login"])


@API.route("PUT", "/accounts/{login}/card", summary="Lier la carte CPS d'un professionnel (son RPPS) à son compte, ou la délier",
           tags=_TAGS, access=Permission.USERS_MANAGE, body=CardLink, response=AccountOut, errors=(409,))
async def link_card(call: Call) -> AccountOut:
    rpps = call.body.rpps
    await _manage(call, accounts.link_card, f"8{rpps}" if rpps else None, call.actor.login)  # idNat_PS = "8" + RPPS
    return await _one(call, call.request.match_info["login"])


@API.route("PUT", "/accounts/{login}/contacts", summary="Le portable et l'e-mail de la personne : où vont ses codes de connexion par SMS ou e-mail",
           tags=_TAGS, access=Permission.USERS_MANAGE, body=StaffContacts, response=AccountOut)
async def set_contacts(call: Call) -> AccountOut:
    body: StaffContacts = call.body
    await _manage(call, accounts.set_contacts, body.email, body.mobile, call.actor.login)
    return await _one(call, call.request.match_info["login"])


@API.route("PUT", "/accounts/{login}/password", summary="Nouveau mot de passe (les sessions de la personne se ferment)", tags=_TAGS,
           access=Permission.USERS_MANAGE, body=PasswordIn, response=AccountOut)
async def new_password(call: Call) -> AccountOut:
    await _manage(call, accounts.reset_password, call.body.password, call.actor.login)
    return await _one(call, call.request.match_info["login"])


@API.route("POST", "/accounts/{login}/otp", summary="Nouveau secret de code à usage unique (téléphone perdu) : l'ancien ne sert plus",
           tags=_TAGS, access=Permission.USERS_MANAGE, response=OtpEnrolment, status=201)
async def new_otp(call: Call) -> OtpEnrolment:
    new = await _manage(call, accounts.reenroll_otp, call.actor.login)
    qr = otp.enrolment_qr(new.otpauth_uri, scale=6)
    return OtpEnrolment(login=new.principal.login, secret=new.otp_secret, uri=new.otpauth_uri, qr_svg=qr)


@API.route("DELETE", "/accounts/{login}/sessions", summary="Déconnecter la personne partout (badge perdu, poste oublié)", tags=_TAGS,
           access=Permission.USERS_MANAGE, response=SessionsEnded)
async def end_sessions(call: Call) -> SessionsEnded:
    return SessionsEnded(ended=await _manage(call, accounts.end_sessions, call.actor.login))
