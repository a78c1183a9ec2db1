"""The forms of the account pages: log-in, sign-up, addresses, new passwords and the profile."""
from __future__ import annotations

from typing import Any

from flask import current_app
from flask_babel import gettext as _, lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, HiddenField, PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, EqualTo, Length, Optional, ValidationError

from kb.services.errors import InvalidInput
from kb.services.accounts.password_policy import MIN_PASSWORD
from kb.services.accounts.users import normalise_email
from kb.web.templating import LANGUAGE_NAMES


def _email_format(_form: FlaskForm, field: Any) -> None:
    try:
        field.data = normalise_email(field.data or "")
    except InvalidInput:
        raise ValidationError(_("Enter an e-mail address such as name@example.fi.")) from None


def _language_choices() -> list[tuple[str, str]]:
    return [(code, LANGUAGE_NAMES.get(code, code)) for code in current_app.config["LANGUAGES"]]


_MAX_PASSWORD = 1024
#: The form checks the length (each bound with its own message); the service checks the rest of the rule.
_PASSWORD_LENGTH = (Length(min=MIN_PASSWORD, message=_l("Use at least %(num)d characters.", num=MIN_PASSWORD)),
                    Length(max=_MAX_PASSWORD, message=_l("At most %(count)s characters.", count=_MAX_PASSWORD)))


class LoginForm(FlaskForm):
    email = EmailField(_l("E-mail address"), validators=[DataRequired(_l("Enter your e-mail address.")),
                                                          Length(max=254)])
    password = PasswordField(_l("Password"), validators=[DataRequired(_l("Enter your password.")),
                                                         Length(max=1024)])
    remember = BooleanField(_l("Keep me logged in on this device"))
    next = HiddenField()


class SignUpForm(FlaskForm):
    name = StringField(_l("Name (optional)"), validators=[Optional(), Length(max=120)])
    email = EmailField(_l("E-mail address"), validators=[DataRequired(_l("Enter your e-mail address.")),
                                                          _email_format])
    password = PasswordField(_l("Password"), validators=[DataRequired(_l("Choose a password.")),
                                                         *_PASSWORD_LENGTH])
    confirm = PasswordField(_l("Password again"), validators=[
        DataRequired(_l("Type the password again.")), EqualTo("password", _l("The passwords do not match."))])
    language = SelectField(_l("Language for messages"))


class AddressForm(FlaskForm):
    """Only an address: asking for a reset link, or for the confirmation link again."""

    email = EmailField(_l("E-mail address"), validators=[DataRequired(_l("Enter your e-mail address.")),
                                                          _email_format])


class NewPasswordForm(FlaskForm):
    password = PasswordField(_l("New password"), validators=[DataRequired(_l("Choose a password.")),
                                                             *_PASSWORD_LENGTH])
    confirm = PasswordField(_l("New password again"), validators=[
        DataRequired(_l("Type the password again.")), EqualTo("password", _l("The passwords do not match."))])


class ProfileForm(FlaskForm):
    name = StringField(_l("Name"), validators=[Optional(), Length(max=120)])
    language = SelectField(_l("Language for messages"))


class PasswordChangeForm(NewPasswordForm):
    current = PasswordField(_l("Current password"), validators=[DataRequired(_l("Enter your current password.")),
                                                                Length(max=1024)])


def with_languages(form: Any) -> Any:
    form.language.choices = _language_choices()
    return form
