"""The fixture articles shared by the search-library tests (tests/helpcenter/test_search.py and
tests/helpcenter/test_search_index.py)."""

from __future__ import annotations

from search import IndexedArticle, SearchResults

A = IndexedArticle
ARTICLES = [
    A(1, "palautukset", "fi", "Palautukset ja palautusoikeus",
      "Voit palauttaa tuotteen **30 päivän** kuluessa. Tulosta palautusosoite "
      "tilaussivulta ja pakkaa tuote huolellisesti alkuperäiseen pakkaukseen.",
      "palautukset", ("palautus", "hyvitys")),
    A(2, "toimitusajat", "fi", "Toimitusajat ja -kulut",
      "Toimitusaika on yleensä 2–4 arkipäivää. Toimituskulut riippuvat "
      "toimitustavasta: noutopiste 4,90 €, kotiinkuljetus 9,90 €.",
      "toimitus"),
    A(3, "tilauksen-seuranta", "fi", "Tilauksen seuranta",
      "Näet tilauksesi tilan kirjautumalla tiliisi. Seurantakoodi lähetetään "
      "sähköpostilla, kun paketti on lähtenyt varastolta.",
      "tilaukset"),
    A(4, "maksutavat", "fi", "Maksutavat",
      "Hyväksymme verkkopankin, korttimaksun ja laskun. Laskun eräpäivä on 14 päivää.",
      "maksaminen"),
    A(5, "tilauksen-muuttaminen", "fi", "Tilauksen muuttaminen",
      "Voit muuttaa tilausta, kunnes se on pakattu. Palautus ei ole tarpeen, "
      "jos peruutat tilauksen ennen pakkaamista.",
      "tilaukset"),
    A(11, "returer", "sv", "Returer och ångerrätt",
      "Du kan returnera varan inom 30 dagar. Ångerrätten gäller alla köp i webbutiken. "
      "Skriv ut returetiketten från din beställning.",
      "returer"),
    A(12, "leveranstider", "sv", "Leveranstider och fraktkostnader",
      "Leveranstiden är 2–4 vardagar. Fraktkostnaden beror på leveranssättet: "
      "ombud 4,90 €, hemleverans 9,90 €.",
      "leverans"),
    A(13, "betalning", "sv", "Betalningssätt",
      "Vi tar emot kort, nätbank och faktura. Fakturan ska betalas inom 14 dagar.",
      "betalning"),
    A(21, "returns", "en", "Returns and refunds",
      "You can return an item within 30 days of delivery. Print the return label "
      "from your order page. Refunds reach your account in 5 business days.",
      "returns"),
    A(22, "delivery-times", "en", "Delivery times and shipping costs",
      "Orders ship within 2 working days. Shipping to a parcel locker costs 4.90 €.",
      "delivery"),
    A(23, "payment-methods", "en", "Payment methods",
      "We accept cards, online banking and invoices. You can return to the shop "
      "after paying to see your receipt.",
      "payment"),
    A(24, "change-order", "en", "Changing an order",
      "You can change your order until it is packed. Payment methods cannot be "
      "changed after the order is paid.",
      "orders"),
]


def slugs(results: SearchResults) -> list[str]:
    return [hit.slug for hit in results.results]
