"""What the suggester reads of a text: passages, tags, Finnish truncation and the TF-IDF features.

Ranking, gaps and persistence: test_suggest.py; cleaning and language: test_suggest_text.py.
"""
from __future__ import annotations

from dataclasses import replace

import pytest

from suggest import ArticleMatcher, ArticleText
from tests.support.suggest_helpers import LIBRARY_ARTICLES as ARTICLES


def test_split_passages_cuts_list_items_and_sentences_and_merges_short_ones():
    from suggest.passages import split_passages

    body = "Questions this answers:\n\n- How do I reset my password?\n- Where is my order now?\n\nOk. Thanks a lot."
    assert split_passages(body) == ["Questions this answers: How do I reset my password?",
                                    "Where is my order now?", "Ok. Thanks a lot."]
    assert split_passages("") == []
    assert len(split_passages(". ".join(f"Sentence number {i} is here" for i in range(100)), max_passages=5)) == 5


def test_passage_scoring_finds_the_one_sentence_that_answers():
    arts = [ArticleText("long", "Shipping", "We ship with several carriers. " * 5 + "Gift wrapping costs 3 euros "
                        "and you choose it at checkout. " + "Parcels leave the warehouse daily. " * 5, "en"),
            ArticleText("other", "Opening hours", "We are open on weekdays from 9 to 17.", "en")]
    ranking = ArticleMatcher().fit(arts).rank("how much is gift wrapping?", k=2)
    assert ranking.suggestions[0].slug == "long"


#: Per language: a damage article whose text never says the customer's word but whose tags do, a
#: missing-item article, and a question whose one telling word is only in the damage article's tags.
TAGGED_SHOPS = {
    "fi": ([ArticleText("vaurio", "Tuote vaurioitui kuljetuksessa", "Ota kuvat vaurioituneesta tuotteesta ja "
                        "pakkauksesta. Korvaamme kuljetuksessa vaurioituneet tuotteet.", "fi",
                        tags=("rikki", "särkynyt", "kolhu")),
            ArticleText("puuttuu", "Paketista puuttuu tuote", "Tarkista pakkauslista. Paketti voi tulla "
                        "useammassa osassa.", "fi", tags=("puuttuva tuote", "vajaa tilaus"))],
           "maljakko oli särkynyt"),
    "sv": ([ArticleText("skada", "Varan skadades under transporten", "Ta bilder på den skadade varan och "
                        "förpackningen. Vi ersätter varor som skadats under transporten.", "sv",
                        tags=("trasig", "sönder", "krossad")),
            ArticleText("saknas", "En vara saknas i paketet", "Kontrollera packsedeln. Paketet kan komma i "
                        "flera delar.", "sv", tags=("saknad vara",))],
           "vasen var krossad"),
    "en": ([ArticleText("damage", "Damaged in transit", "Take photos of the damaged item and the packaging. "
                        "We replace items damaged in transit.", "en", tags=("broken", "smashed", "cracked")),
            ArticleText("missing", "An item is missing from the parcel", "Check the packing slip. A parcel may "
                        "arrive in several parts.", "en", tags=("missing item",))],
           "the vase was cracked"),
}


@pytest.mark.parametrize("language", sorted(TAGGED_SHOPS))
def test_an_articles_tags_are_read_with_its_title(language):
    articles, question = TAGGED_SHOPS[language]
    ranking = ArticleMatcher().fit(articles).rank(question, language=language, k=2)
    assert ranking.suggestions[0].slug == articles[0].slug and ranking.confident
    untagged = ArticleMatcher().fit([replace(a, tags=()) for a in articles]).rank(question, language=language)
    assert not (untagged.confident and untagged.suggestions[0].slug == articles[0].slug)  # the tags made it


def test_finnish_forms_meet_through_truncation():
    from suggest.features import word_analyzer
    from suggest.matcher import prepare

    m = ArticleMatcher().fit(ARTICLES)
    q = m.features_._word_docs([prepare("Milloin tilaukseni toimitetaan?", "fi")])[0]
    body = m.features_._word_docs([prepare("Toimitamme tilaukset", "fi", chars=False)])[0]
    assert {"~tilauk", "~toimit"} <= set(word_analyzer(q)) & set(word_analyzer(body))
    assert m.rank("Milloin tilaukseni toimitetaan?", language="fi").suggestions[0].slug == "toimitusaika"


def test_word_analysis_is_memoised_without_changing_it(monkeypatch):
    import Stemmer

    from suggest import normalise

    monkeypatch.setattr(normalise, "_WORD_CACHE", {})
    monkeypatch.setattr(normalise, "_WORD_CACHE_SIZE", 5)
    text = "Tilaukseni TOIMITETAAN huomenna, eikö? Kiitos tilauksesta ja toimituksesta"
    stems, words = normalise.analyse(text, "fi")
    expected = Stemmer.Stemmer("finnish").stemWords(text.lower().replace(",", "").replace("?", "").split())
    assert stems.split() == [normalise.fold(s) for s in expected]
    assert words.split() == [normalise.fold(w) for w in text.lower().replace(",", "").replace("?", "").split()]
    assert normalise.analyse(text, "fi") == (stems, words)
    assert len(normalise._WORD_CACHE) <= 5  # bounded: cleared when full


def test_features_fit_transform_equals_fit_then_transform():
    import numpy as np

    from suggest.features import TextFeatures
    from suggest.matcher import prepare

    texts = [prepare(t, lang) for t, lang in [("Missä tilaukseni on?", "fi"), ("Var är mitt paket?", "sv"),
                                               ("Where is my parcel?", "en"), ("", "en")]]
    texts.append(prepare("Toimitamme tilaukset", "fi", chars=False))  # words only for the truncation tokens
    once = TextFeatures().fit_transform(texts)
    twice = TextFeatures().fit(texts).transform(texts)
    assert once.shape == twice.shape
    assert np.allclose(once.toarray(), twice.toarray())
    assert once[3].nnz == 0


def test_prune_rows_keeps_each_rows_heaviest_terms():
    import numpy as np
    from scipy import sparse

    from suggest.selftrain import prune_rows

    X = sparse.csr_matrix(np.array([[0.1, 0.5, 0.0, 0.3, 0.2], [0.0, 0.0, 0.9, 0.0, 0.0]], dtype=np.float32))
    pruned = prune_rows(X, 2).toarray()
    assert np.allclose(pruned, [[0.0, 0.5, 0.0, 0.3, 0.0], [0.0, 0.0, 0.9, 0.0, 0.0]])
    assert np.array_equal(prune_rows(X, None).toarray(), X.toarray())


def test_batch_product_equals_the_sparse_product():
    import numpy as np
    from scipy import sparse

    from suggest.selftrain import BatchProduct

    rng = np.random.default_rng(0)
    X = sparse.random(300, 500, density=0.02, format="csr", dtype=np.float32, random_state=rng)
    M = sparse.random(500, 40, density=0.05, format="csr", dtype=np.float32, random_state=rng)
    want = (X @ M).toarray()
    dense = BatchProduct(M)
    assert dense.used is not None and np.allclose(dense(X), want, atol=1e-6)
    assert np.allclose(dense(X[:3]), want[:3], atol=1e-6)  # few rows: the sparse path
    too_big = BatchProduct(M, max_bytes=0)
    assert too_big.used is None and np.allclose(too_big(X), want, atol=1e-6)
