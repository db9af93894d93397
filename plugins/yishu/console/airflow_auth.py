"""Inside Airflow: bureau staff already signed in to Airflow's UI sign in to the console with
that identity, without a second password.

Airflow's api-server keeps the UI's JWT in the `_token` cookie, and its auth manager checks it
(signature, expiry, revocation): Airflow says *who*. The Airflow user name must also be an
active console account (`yishu user add NAME --role ...`), which says *what* they may do, so
roles stay in one place and an Airflow user without an account gets nothing. Outside Airflow
(`yishu serve`) this sign-in is off: there is no auth manager to ask.
"""

from __future__ import annotations

import logging

from fastapi import Request

AIRFLOW_COOKIE = "_token"  # airflow.api_fastapi.auth.managers.base_auth_manager
log = logging.getLogger(__name__)


async def airflow_user(request: Request) -> str | None:
    """The name of the Airflow user whose valid JWT this request carries, else None."""
    token = request.cookies.get(AIRFLOW_COOKIE)
    if not token:
        return None
    try:
        from airflow.api_fastapi.app import get_auth_manager

        user = await get_auth_manager().get_user_from_token(token)
    except Exception as exc:  # noqa: BLE001 - invalid, expired or revoked: no identity
        log.info("Airflow token refused for the console: %s", type(exc).__name__)
        return None
    return user.get_name()
