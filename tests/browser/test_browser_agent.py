"""The agent's inbox and ticket page in real Chromium: every column of the list visible and uncovered
at a laptop's and a phone's width, and a linked answer inserted at the cursor, above the sign-off."""
from __future__ import annotations

import pytest

from kb.services.shop.demo import DEMO_STAFF_PASSWORD
from tests.fixtures.browser_fixtures import browser_log_in as log_in

pytestmark = pytest.mark.browser

#: For every cell of the first rows: whether it has a size, lies inside the viewport and is the
#: element the browser finds at its own centre (nothing drawn over it).
CELLS_SEEN = """() => {
  const problems = [];
  const views = document.querySelector('.inbox-views').getBoundingClientRect();
  const rows = Array.from(document.querySelectorAll('table.inbox tbody tr')).slice(0, 6);
  for (const [r, row] of rows.entries()) {
    for (const [c, cell] of Array.from(row.cells).entries()) {
      cell.scrollIntoView({block: 'center', inline: 'nearest'});
      const box = cell.getBoundingClientRect();
      const style = getComputedStyle(cell);
      const where = `row ${r} column ${c} (${cell.dataset.label})`;
      if (box.width < 1 || box.height < 1 || style.visibility === 'hidden' || style.display === 'none') {
        problems.push(`${where}: hidden`); continue;
      }
      if (box.left < -0.5 || box.right > window.innerWidth + 0.5) {
        problems.push(`${where}: cut at ${box.left}-${box.right} of ${window.innerWidth}`);
      }
      const x = Math.min(Math.max(box.left + box.width / 2, 0), window.innerWidth - 1);
      const y = box.top + Math.min(box.height / 2, 12);
      const hit = document.elementFromPoint(x, y);
      if (!hit || !cell.contains(hit)) {
        problems.push(`${where}: covered by ${hit ? hit.outerHTML.slice(0, 60) : 'nothing'}`);
      }
      const v = document.querySelector('.inbox-views').getBoundingClientRect();
      if (!(box.right <= v.left || box.left >= v.right || box.bottom <= v.top || box.top >= v.bottom)) {
        problems.push(`${where}: overlaps the views`);
      }
    }
  }
  if (document.documentElement.scrollWidth > window.innerWidth) {
    problems.push(`page ${document.documentElement.scrollWidth} px wide`);
  }
  return problems;
}"""


#: Headings and labels broken in the middle of a word (more lines than words).
WORDS_BROKEN = """() => Array.from(document.querySelectorAll(
    'table.inbox thead th, table.inbox td:nth-child(n+3)')).filter(cell => {
  const range = document.createRange();
  range.selectNodeContents(cell);
  const lines = new Set(Array.from(range.getClientRects()).map(b => Math.round(b.top))).size;
  return lines > cell.textContent.trim().split(/\\s+/).length;
}).map(cell => cell.textContent.trim())"""


@pytest.mark.parametrize("width", [1280, 1024, 390])
def test_inbox_shows_every_column_uncovered(page, live_server: str, width: int) -> None:  # noqa: F811
    page.set_viewport_size({"width": width, "height": 900})
    log_in(page, live_server, "agent@tupa.example", DEMO_STAFF_PASSWORD)
    page.goto(live_server + "/agent/?view=all")
    assert page.locator("table.inbox tbody tr").count() >= 6
    assert page.evaluate(CELLS_SEEN) == []
    if width >= 1024:  # a table: every heading on screen in one row
        headings = page.locator("table.inbox thead th")
        assert headings.count() == 8
        tops = {round(headings.nth(i).bounding_box()["y"]) for i in range(8)}
        assert len(tops) == 1 and all(headings.nth(i).is_visible() for i in range(8))
        assert page.evaluate(WORDS_BROKEN) == []
    # the full address of a customer is available where it is cut short
    email = page.locator("table.inbox tbody td.col-customer .clip").first
    assert "@" in email.get_attribute("title")


def test_linked_answer_goes_in_at_the_cursor_above_the_sign_off(page, live_server: str) -> None:  # noqa: F811
    page.set_viewport_size({"width": 1280, "height": 900})
    log_in(page, live_server, "agent@tupa.example", DEMO_STAFF_PASSWORD)
    page.goto(live_server + "/agent/?view=all&language=fi")
    page.locator("table.inbox tbody tr a").first.click()
    page.wait_for_url("**/agent/tickets/*")
    reply = page.locator("#reply-body")
    page.select_option("#macro-select", label="Kiitos yhteydenotosta")
    page.click("#macro-insert")
    button = page.locator(".insert-answer").first
    answer = button.get_attribute("data-answer")
    # the cursor is left in the canned reply's empty middle: the answer goes there
    button.click()
    value = reply.input_value()
    assert value.index("tässä vastauksemme:") < value.index(answer) < value.index("Ystävällisin terveisin")
    assert f"\n\n{answer}\n\n" in value
    # with the cursor at the very end (below the sign-off) the next one still goes above it
    second = page.locator(".insert-answer").nth(1)
    other = second.get_attribute("data-answer")
    reply.evaluate("t => { t.focus(); t.selectionStart = t.selectionEnd = t.value.length; }")
    second.click()
    value = reply.input_value()
    assert value.index(answer) < value.index(other) < value.index("Ystävällisin terveisin")
    assert value.rstrip().endswith("Tuvan asiakaspalvelu")
    # and at a cursor the agent placed in the text: exactly there
    reply.evaluate("t => { t.focus(); t.selectionStart = t.selectionEnd = t.value.indexOf('kiitos'); }")
    page.locator(".insert-answer").nth(2).click()
    third = page.locator(".insert-answer").nth(2).get_attribute("data-answer")
    value = reply.input_value()
    assert value.index("Hei,") < value.index(third) < value.index("kiitos viestistäsi")
    assert page.locator("#reply-linked").input_value().count(",") == 2
    # a second click on an answer already in the reply shows it there instead of adding it twice
    before = reply.input_value()
    button.click()
    assert reply.input_value() == before and before.count(answer) == 1
    selected = reply.evaluate("t => t.value.slice(t.selectionStart, t.selectionEnd)")
    assert selected == answer


#: Tab from the last control of the conversation column into the side column: the focused control,
#: and how far the page scrolled to show it (negative: back up the page).
TAB_INTO_SIDE = """() => {
  const main = document.querySelector('.article-layout > :first-child');
  const controls = Array.from(main.querySelectorAll('a[href], button, input:not([type=hidden]), select, textarea'))
    .filter(el => el.offsetParent !== null);
  const last = controls[controls.length - 1];
  last.scrollIntoView({block: 'end'});
  last.focus();
  return {before: window.scrollY, label: last.outerHTML.slice(0, 60)};
}"""


def test_tabbing_into_the_ticket_side_column_does_not_jump_up_the_page(page, live_server: str) -> None:  # noqa: F811
    """The side column (customer, order, suggested articles) comes after the conversation in the page, and
    stays beside it while the agent scrolls: reaching it with Tab never scrolls the page back to the top."""
    page.set_viewport_size({"width": 1280, "height": 720})
    log_in(page, live_server, "agent@tupa.example", DEMO_STAFF_PASSWORD)
    page.goto(live_server + "/agent/?view=all&language=fi")
    page.locator("table.inbox tbody tr a").first.click()
    page.wait_for_url("**/agent/tickets/*")
    start = page.evaluate(TAB_INTO_SIDE)
    assert start["before"] > 200  # the conversation is longer than the window: the test means something
    page.keyboard.press("Tab")
    focused_in_side = page.evaluate("() => !!document.activeElement.closest('.article-layout > aside')")
    after = page.evaluate("() => window.scrollY")
    assert focused_in_side, start["label"]
    assert after >= start["before"] - 5, (start, after)
