"""The suggester's small shop: four articles and inquiries on three topics (two answered, one not),
shared by the suggester, editor and batch tests; and the library tests' articles (LIBRARY_ARTICLES)."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from suggest import ArticleText

AS_OF = datetime(2026, 11, 20, 12, 0, tzinfo=timezone.utc)

ARTICLES = [
    {"slug": "toimitusajat", "title": "Toimitusajat ja toimituskulut", "language": "fi", "category": "toimitus",
     "body": "Toimitamme tilaukset 1–3 arkipäivässä. Toimitus noutopisteeseen maksaa 4,90 €."},
    {"slug": "palautukset", "title": "Tuotteen palauttaminen", "language": "fi", "category": "palautukset",
     "body": "Voit palauttaa tuotteen 14 päivän kuluessa. Rekisteröi palautus ja tulosta palautuslappu."},
    {"slug": "maksutavat", "title": "Maksutavat", "language": "fi", "category": "maksaminen",
     "body": "Maksa verkkopankilla, kortilla, MobilePaylla tai Klarnan laskulla."},
    {"slug": "returns", "title": "Returning an item", "language": "en", "category": "palautukset",
     "body": "You can return an item within 14 days. Register the return and print the label.",
     "translation_of": "palautukset"},
]

QUESTIONS = {
    "toimitusajat": ["Kuinka kauan toimitus kestää?", "Milloin tilaukseni toimitetaan?",
                     "Paljonko toimitus maksaa noutopisteeseen?"],
    "palautukset": ["Miten palautan tuotteen?", "Haluan palauttaa maton, miten toimin?",
                    "Voinko palauttaa tuotteen vielä?"],
    "gift": ["Voitteko paketoida tilauksen lahjapaperiin?", "Onko teillä lahjapaketointia?",
             "Saisinko lahjapaketoinnin tilaukseen?", "Paketoitteko lahjaksi?"],
}


def inquiries(as_of: datetime = AS_OF) -> list[dict]:
    rows, n = [], 0
    for topic, texts in QUESTIONS.items():
        for repeat in range(3):
            for text in texts:
                n += 1
                rows.append({"id": f"Q{n}", "created_at": (as_of - timedelta(days=1 + n % 10, hours=repeat)).isoformat(),
                             "channel": ["email", "chat", "form"][n % 3], "subject": "", "body": text,
                             "language": "fi", "_topic": topic})
    rows.append({"id": "OLD", "created_at": (as_of - timedelta(days=20)).isoformat(), "channel": "phone",
                 "body": "Voitteko paketoida lahjaksi?", "_topic": "gift"})
    return rows


#: Articles in three languages for the suggester library's own tests (no database).
LIBRARY_ARTICLES = [
    ArticleText("palautus", "Tuotteen palauttaminen", "Voit palauttaa tuotteen 30 päivän kuluessa. Tulosta "
                "palautuslappu ja vie paketti postiin.", "fi"),
    ArticleText("toimitusaika", "Toimitusajat ja toimitustavat", "Toimitamme tilaukset 2-4 arkipäivässä. "
                "Seuraa tilauksen toimitusta seurantakoodilla.", "fi"),
    ArticleText("retur", "Returnera en vara", "Du kan returnera varor inom 30 dagar. Skriv ut returetiketten "
                "och lämna paketet hos ombudet.", "sv"),
    ArticleText("leverans", "Leveranstider", "Vi levererar beställningar inom 2-4 vardagar. Följ din "
                "leverans med spårningskoden.", "sv"),
    ArticleText("returns", "Returning an item", "You can return items within 30 days. Print the return "
                "label and drop the parcel at the post office.", "en"),
    ArticleText("delivery", "Delivery times", "We ship orders within 2-4 working days. Track your delivery "
                "with the tracking code.", "en"),
    ArticleText("invoice", "Paying by invoice", "Choose invoice at checkout. The invoice is due in 14 days and "
                "arrives by e-mail.", "en"),
]
