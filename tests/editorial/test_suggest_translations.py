"""Translations in the suggester: an original and its translations say one thing in several languages.

The encoder is multilingual, so the translations share one semantic centroid (what customers asked
about any of them teaches all of them), and one translation is never the runner-up that makes its
own original look uncertain. Synthetic encoder rows keep these tests exact and encoder-free.
"""
from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta, timezone

import numpy as np
import pytest
from scipy import sparse
from sqlalchemy import select

from kb.db import session
from kb.models import Article
from kb.services.editorial.suggestions import article_texts, fingerprint
from suggest import ArticleMatcher, ArticleText, InquiryText
from suggest.selftrain import group_codes, top2_scores

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=timezone.utc)

#: Three meanings as encoder directions: damage in transit, a missing item, delivery times.
DAMAGE, MISSING, DELIVERY = np.eye(3, 8, dtype=np.float32)

ARTICLES = [
    ArticleText("kuljetusvaurio", "Tuote vaurioitui kuljetuksessa", "Ota kuvat ja ilmoita vauriosta.", "fi",
                group="damage"),
    ArticleText("damaged-in-transit", "Damaged in transit", "Take photos and report the damage.", "en",
                group="damage"),
    ArticleText("tuote-puuttuu", "Paketista puuttuu tuote", "Tarkista ensin lähetyksen osat.", "fi"),
    ArticleText("delivery-times", "Delivery times", "We ship within two working days.", "en"),
]


def _unit(*rows: np.ndarray) -> np.ndarray:
    M = np.vstack(rows).astype(np.float32)
    return M / np.linalg.norm(M, axis=1, keepdims=True)


def _shop(articles: list[ArticleText], **params) -> tuple[ArticleMatcher, np.ndarray]:
    """A shop whose English customers write about broken parcels in words no article uses, linked by
    agents to the English article; the Finnish article has no inquiries of its own."""
    english = ["the vase came smashed", "my lamp shattered on the way", "cups cracked in the box",
               "the glass was in pieces", "everything arrived smashed"]
    history = [InquiryText(id=f"en-{i}", text=text, language="en", created_at=NOW - timedelta(days=1),
                           article_slugs=("damaged-in-transit",)) for i, text in enumerate(english)]
    history += [InquiryText(id=f"fi-{i}", text=text, language="fi", created_at=NOW - timedelta(days=1))
                for i, text in enumerate(["missä toimitus viipyy", "toimitus myöhässä", "kauanko toimitus kestää"])]
    # the customers' meaning: damage, with a colour of its own the articles' texts do not have
    broken = np.zeros(8, dtype=np.float32)
    broken[5] = 1.0
    article_rows = _unit(DAMAGE, DAMAGE + 0.2 * MISSING, MISSING + 0.5 * broken, DELIVERY)
    history_rows = np.vstack([_unit(broken + 0.5 * DAMAGE)] * 5 + [_unit(DELIVERY)] * 3)
    matcher = ArticleMatcher(**params).fit(articles, history, article_vectors=article_rows,
                                           history_vectors=history_rows, encoder_name="synthetic")
    return matcher, _unit(broken + 0.3 * DAMAGE)[0]


def test_translations_share_what_customers_taught_any_of_them() -> None:
    grouped, finnish_question = _shop(ARTICLES)
    apart, _ = _shop([replace(a, group="") for a in ARTICLES])
    fi, en = grouped.slugs_.index("kuljetusvaurio"), grouped.slugs_.index("damaged-in-transit")
    assert np.allclose(grouped.semantic_centroids_[fi], grouped.semantic_centroids_[en])
    assert not np.allclose(apart.semantic_centroids_[fi], apart.semantic_centroids_[en])

    def first(matcher: ArticleMatcher) -> str:
        ranking = matcher.rank("rikki meni", language="fi", vector=finnish_question)
        return ranking.suggestions[0].slug

    # a Finnish customer says what the English ones said: the Finnish article, taught by them, comes first
    assert first(grouped) == "kuljetusvaurio"
    assert first(apart) == "tuote-puuttuu"


def test_a_translation_is_never_the_runner_up_of_its_original() -> None:
    X = sparse.csr_matrix(np.array([[1.0, 0.0]], dtype=np.float32))
    # articles: an original and its translation (both close to the text), then another article
    CT = sparse.csr_matrix(np.array([[0.5, 0.45, 0.2], [0.0, 0.0, 0.0]], dtype=np.float32))
    groups = group_codes(["a", "a", ""])
    _, best, second = top2_scores(X, CT, ["fi"], ["fi", "fi", "fi"], 0.5)
    assert (best[0], second[0]) == (np.float32(0.5), np.float32(0.45))
    _, best, second = top2_scores(X, CT, ["fi"], ["fi", "fi", "fi"], 0.5, groups=groups)
    assert (best[0], second[0]) == (np.float32(0.5), np.float32(0.2))


def test_an_answer_is_confident_although_its_translation_scores_nearly_as_well() -> None:
    # a shop that ranks every language alike: the English translation is a close second to the Finnish
    # text, which would fail the margin rule if a translation counted as a rival
    matcher, _ = _shop(ARTICLES, other_language_weight=1.0)
    broken = np.zeros(8, dtype=np.float32)
    broken[5] = 1.0
    question = _unit(broken + 0.5 * DAMAGE)[0]
    row = matcher.scores(*matcher.transform_texts(["maljakko tuli rikki"], ["fi"]),
                         matcher.centre_vectors(question[None, :], ["fi"]))[0]
    fi, en = row[matcher.slugs_.index("kuljetusvaurio")], row[matcher.slugs_.index("damaged-in-transit")]
    assert fi - en < 0.15 * fi  # the translation alone would fail the margin rule
    ranking = matcher.rank("maljakko tuli rikki", language="fi", vector=question, k=3)
    assert ranking.suggestions[0].slug == "kuljetusvaurio" and ranking.confident
    # and it is not offered again: one suggestion per answer
    assert "damaged-in-transit" not in [s.slug for s in ranking.suggestions]


def test_a_question_in_a_language_with_no_article_is_offered_the_answer_once() -> None:
    # Swedish question, the answer written in Finnish and English only
    grouped, question = _shop(ARTICLES)
    apart, _ = _shop([replace(a, group="") for a in ARTICLES])
    offered = [s.slug for s in grouped.rank("det gick sönder", language="sv", vector=question, k=3).suggestions]
    assert offered[0] in {"kuljetusvaurio", "damaged-in-transit"}
    assert not {"kuljetusvaurio", "damaged-in-transit"} <= set(offered)  # one translation, not both
    assert len(offered) == 3  # the other places go to other answers
    alone = apart.rank("det gick sönder", language="sv", vector=question, k=2).suggestions
    assert "kuljetusvaurio" not in {s.slug for s in alone}


def test_group_codes_number_keys_and_keep_empty_keys_apart() -> None:
    codes = group_codes(["a", "", "b", "a", ""])
    assert codes[0] == codes[3] and len({codes[0], codes[1], codes[2], codes[4]}) == 4


def test_the_app_groups_an_original_with_its_translations(app, create_article) -> None:
    original = create_article(slug="palautukset", title="Palautukset", body="Palauta 14 päivässä.")
    create_article(slug="returer", title="Returer", body="Returnera inom 14 dagar.", language="sv",
                   translation_of="palautukset")
    create_article(slug="maksutavat", title="Maksutavat", body="Kortti tai lasku.")
    with app.app_context():
        before = fingerprint(session())
        groups = {a.slug: a.group for a in article_texts(session())}
        assert groups["palautukset"] == groups["returer"] == str(original)
        assert groups["maksutavat"] not in {"", groups["palautukset"]}
        swedish = session().scalar(select(Article).where(Article.slug == "returer"))
        updated = swedish.updated_at
        swedish.translation_of_id = None
        swedish.updated_at = updated
        session().flush()
        assert fingerprint(session()) != before  # the model learnt the grouping: it is refitted


def test_a_saved_model_keeps_its_translation_groups(tmp_path) -> None:
    grouped, question = _shop(ARTICLES)
    grouped.save(tmp_path / "model")
    loaded = ArticleMatcher.load(tmp_path / "model")
    assert list(loaded.article_groups_) == list(grouped.article_groups_)
    for language in ("fi", "sv"):  # semantic centroids are saved as float16: scores agree to 1e-3
        after = loaded.rank("rikki meni", language=language, vector=question, k=3)
        before = grouped.rank("rikki meni", language=language, vector=question, k=3)
        assert [s.slug for s in after.suggestions] == [s.slug for s in before.suggestions]
        assert after.confident == before.confident
        assert [s.score for s in after.suggestions] == pytest.approx([s.score for s in before.suggestions], abs=1e-3)
