"""The rule for new passwords: long enough (ASVS 2.1.1) and not easy to guess (ASVS 2.1.7).

"Easy to guess" is zxcvbn's estimate (its common-password, word and name lists ship with
it, offline): a password an attacker would find within a million guesses of common
passwords, words, keyboard walks, repeats, sequences, dates or the account's own address
and name is refused. A million is deliberately the bar and no higher: Finnish and Swedish
phrases are missing from zxcvbn's English lists and pass as they should.

Only new passwords are checked; an account whose older password fails the rule still logs in.
"""
from __future__ import annotations

import re
import threading

from zxcvbn import zxcvbn

from kb.services.errors import InvalidInput

MIN_PASSWORD = 10
#: zxcvbn's score 2 = at least 10^6 guesses ("somewhat guessable": safe against online guessing).
MIN_SCORE = 2
#: zxcvbn's time grows with the square of the length and explodes with many different l33t symbols
#: (``4@8({[<3691!|70$5+%2``): measured here, crafted input of 100 / 64 / 40 characters took 3.1 / 1.2 /
#: 0.47 s (an ordinary password under 30 ms). Sign-up needs no account, so the worst case is kept under
#: half a second; 40 characters hold a typical e-mail address or several words, and a longer password
#: is judged by its start (its length alone puts it far beyond a million guesses unless that start is weak).
ANALYSED_LENGTH = 40
TOO_EASY = "this password is too easy to guess"

#: zxcvbn keeps the user inputs in a module-level dictionary between setting and matching them.
_zxcvbn_lock = threading.Lock()
_WORD_SEPARATORS = re.compile(r"[\W_]+")


def personal_words(email: str, name: str) -> list[str]:
    """What a guesser tries first: the address, its local part and domain, and the words in them and in the name."""
    email, name = email.strip().lower(), " ".join(name.lower().split())
    local, _, domain = email.rpartition("@") if "@" in email else (email, "", "")
    whole = [text for text in (email, local, domain, name) if text]
    words = [word for text in whole for word in _WORD_SEPARATORS.split(text) if len(word) >= 3]
    return list(dict.fromkeys(whole + words))


def is_easy_to_guess(password: str, personal: list[str]) -> bool:
    """True when zxcvbn finds ``password`` (its first ANALYSED_LENGTH characters) within 10^6 guesses."""
    analysed = password[:ANALYSED_LENGTH]
    with _zxcvbn_lock:
        score = zxcvbn(analysed, user_inputs=personal, max_length=ANALYSED_LENGTH)["score"]
    return score < MIN_SCORE


def check_new_password(password: str, *, email: str = "", name: str = "") -> None:
    """Raise InvalidInput (field "password") unless ``password`` may become the account's new password."""
    if len(password) < MIN_PASSWORD:
        raise InvalidInput(f"at least {MIN_PASSWORD} characters", field="password")
    if is_easy_to_guess(password, personal_words(email, name)):
        raise InvalidInput(TOO_EASY, field="password")
