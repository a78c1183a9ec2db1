"""``neuvo suggest``: articles for inquiries, and the questions no article answers yet."""
from __future__ import annotations

import json

import click
from flask.cli import with_appcontext

from kb.cli.common import domain_errors, embed_for_answer, prepare_vectors, progress
from kb.db import session, utcnow
from kb.services.editorial.suggestions import matchers
from kb.services.errors import InvalidInput


@click.group("suggest")
def suggest_group() -> None:
    """The suggester: articles for an inquiry, and the questions no article answers."""


@suggest_group.command("gaps")
@click.option("--days", default=14, show_default=True, type=click.IntRange(1, 366), help="Window length.")
@click.option("--top", default=10, show_default=True, type=click.IntRange(1, 100), help="Topics to list.")
@click.option("--as-of", "as_of", default=None, help="End of the window (ISO 8601; no zone = UTC). Default: now.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object (see DESIGN.md).")
@with_appcontext
@domain_errors
def suggest_gaps_command(days: int, top: int, as_of: str | None, as_json: bool) -> None:
    """The most-asked questions of the window that no published article answers."""
    from kb.services.importing import timestamp
    from kb.services.editorial.suggestions import find_gaps
    from kb.services.editorial.suggestion_json import gap_report_json

    end = timestamp({"--as-of": as_of}, "--as-of") if as_of else utcnow()
    embedded = prepare_vectors()
    matcher = matchers().current(session(), refit=embedded > 0, progress=progress)
    report = find_gaps(session(), matcher, as_of=end, days=days, top=top, progress=progress)
    session().rollback()
    if as_json:
        click.echo(json.dumps(gap_report_json(report), ensure_ascii=False))
        return
    click.echo(f"{report.inquiries} inquiries from {report.window_start:%Y-%m-%d %H:%M} to "
               f"{report.window_end:%Y-%m-%d %H:%M} UTC; {len(report.topics)} topics no article answers")
    for topic in report.topics:
        langs = ", ".join(f"{k} {v}" for k, v in sorted(topic.languages.items(), key=lambda kv: -kv[1]))
        nearest = f"{topic.nearest_article} ({topic.nearest_similarity:.2f})" if topic.nearest_article else "none"
        click.echo(f"\n{topic.rank:>2}. {topic.title}\n    {topic.size} inquiries · {langs} · "
                   f"terms: {', '.join(topic.terms[:6])} · nearest article: {nearest}")
        for example in topic.examples[:3]:
            click.echo(f"      - {example[:110]}")


@suggest_group.command("refresh")
@click.option("--days", default=14, show_default=True, type=click.IntRange(1, 366), help="Window length.")
@click.option("--top", default=10, show_default=True, type=click.IntRange(1, 100), help="Topics to keep.")
@click.option("--as-of", "as_of", default=None, help="End of the window (ISO 8601; no zone = UTC). Default: now.")
@with_appcontext
@domain_errors
def suggest_refresh_command(days: int, top: int, as_of: str | None) -> None:
    """Run the gap miner and store the editors' suggested-articles list (`neuvo worker` does it on its own)."""
    from kb.jobs import run_gap_refresh
    from kb.services.importing import timestamp

    end = timestamp({"--as-of": as_of}, "--as-of") if as_of else utcnow()
    snapshot = run_gap_refresh(as_of=end, days=days, top=top, progress=progress)
    topics = snapshot.report["topics"]
    click.echo(f"Stored suggested articles #{snapshot.id}: {len(topics)} topics from "
               f"{snapshot.report['inquiries']} inquiries ({snapshot.window_start:%Y-%m-%d} to "
               f"{snapshot.window_end:%Y-%m-%d})")


@suggest_group.command("attach")
@click.option("--text", "text_", default=None, help="One inquiry's text.")
@click.option("--file", "file", default=None, type=click.Path(dir_okay=False),
              help=".jsonl/.csv of inquiries (id, subject, body, language) or .txt, one per line.")
@click.option("--k", default=5, show_default=True, type=click.IntRange(1, 50))
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line, in input order.")
@with_appcontext
@domain_errors
def suggest_attach_command(text_: str | None, file: str | None, k: int, as_json: bool) -> None:
    """Rank articles for inquiries and say whether the best one surely answers."""
    from kb.services.editorial.suggestions import rank_texts
    from kb.services.inquiries.tickets import read_texts
    from kb.services.editorial.suggestion_json import ranking_json

    if (text_ is None) == (file is None):
        raise InvalidInput("give exactly one of --text and --file", field="--text/--file")
    items = [("text", text_, None)] if text_ is not None else read_texts(file)
    embedded = prepare_vectors()
    matcher = matchers().current(session(), refit=embedded > 0, progress=progress)
    texts = [t for _, t, _ in items]
    vectors = embed_for_answer(texts) if matcher is not None and matcher.uses_semantic else None
    rankings = rank_texts(matcher, texts, [lang for _, _, lang in items], k=k, vectors=vectors)
    session().rollback()
    for (item_id, _, _), ranking in zip(items, rankings):
        if as_json:
            click.echo(json.dumps(ranking_json(item_id, ranking), ensure_ascii=False))
        else:
            best = ", ".join(f"{s.slug} ({s.score:.2f})" for s in ranking.suggestions) or "no articles"
            click.echo(f"{item_id}\t{'confident' if ranking.confident else 'not sure'}\t{best}")
