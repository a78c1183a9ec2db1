"""Who may open a view: a decorator for staff areas (agent, editor, manager, admin)."""
from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from flask import abort, redirect, request, url_for
from flask_login import current_user

from kb.models import Role


def roles_required(*roles: Role) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Let in users having one of ``roles`` (admins always; no roles: admins only).

    Guests are sent to log in (JSON callers get 401); signed-in users without
    the role get 403.
    """

    def decorator(view: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if not current_user.is_authenticated:
                if request.path.startswith("/api/") or request.accept_mimetypes.best == "application/json":
                    abort(401)
                return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
            if not current_user.has_role(*roles):
                abort(403)
            from kb.views.accounts.two_factor import require_for_staff

            if (detour := require_for_staff()) is not None:
                return detour
            return view(*args, **kwargs)

        wrapper.allowed_roles = roles  # type: ignore[attr-defined]
        return wrapper

    return decorator
