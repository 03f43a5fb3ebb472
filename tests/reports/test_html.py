"""The HTML report: one self-contained page, every untrusted string shown as text."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from canary_eval.reports.changes import changed_cases
from canary_eval.reports.html import CSP, render_html, write_html
from canary_eval.verdict.compare import Comparison

from factories import comparison, history_row

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "canary-reports" / "test-artifacts"
HOSTILE = (
    "<script>alert(1)</script><img src=x onerror=\"document.body.setAttribute('data-pwned','1')\">"
    "<style>body{display:none}</style></pre></div><script>document.title='pwned'</script>"
)


@pytest.fixture(scope="module")
def hostile() -> Comparison:
    return comparison(
        "regression",
        outputs={"billing-00": HOSTILE, "billing-01": "<b>bold</b> & 'quotes' \"double\""},
        intent_names={"shipping": "<svg onload=alert(2)>"},
    )


def test_an_output_containing_script_shows_as_escaped_text(regression: Comparison) -> None:
    page = render_html(regression)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<script" not in page.lower()


def test_no_untrusted_string_reaches_the_page_as_markup(hostile: Comparison) -> None:
    page = render_html(hostile)
    assert "<script" not in page.lower()
    assert "<img" not in page.lower()
    assert "&lt;img src=x onerror=&quot;document.body" in page
    assert "<svg onload" not in page
    assert "&lt;svg onload=alert(2)&gt;" in page
    assert "&lt;b&gt;bold&lt;/b&gt; &amp; &#x27;quotes&#x27; &quot;double&quot;" in page
    assert page.count("<style>") == 1


def test_a_strict_content_security_policy_forbids_scripts_and_remote_resources(
    regression: Comparison,
) -> None:
    page = render_html(regression)
    assert CSP == "default-src 'none'; style-src 'unsafe-inline'; img-src data:"
    assert (
        f'<meta http-equiv="Content-Security-Policy" content="{CSP.replace(chr(39), "&#x27;")}">'
        in page
    )
    # Self-contained: nothing is loaded from anywhere.
    assert not re.search(r"\b(src|href)=", page)
    assert "url(" not in page
    assert "@import" not in page


def test_shows_the_verdict_the_score_with_its_interval_and_the_intents(
    regression: Comparison,
) -> None:
    page = render_html(regression)
    assert '<header class="verdict regression"><h1>REGRESSION</h1>' in page
    assert "0.700  (95 % CI 0.550 to 0.825)" in page
    assert "<td>billing</td>" in page
    assert "<td>shipping</td>" in page
    assert ">regressed</td>" in page
    assert "latency p95 (ms)" in page
    assert "hedging rate" in page


def test_draws_the_trend_the_intent_deltas_and_the_interval_as_inline_svg(
    regression: Comparison,
) -> None:
    history = [
        history_row(score, f"2024-05-0{day}T14:00:00+00:00")
        for day, score in ((4, 0.98), (5, 0.99), (6, 1.0))
    ]
    page = render_html(regression, history)
    assert page.count("<svg ") == 3
    assert 'aria-label="score trend over 4 run(s)"' in page
    trend = page[page.index('aria-label="score trend') :]
    trend = trend[: trend.index("</svg>")]
    assert trend.count("<circle") == 4  # three recorded runs and this one
    assert "<polyline" in trend
    assert 'aria-label="score change per intent"' in page


def test_every_changed_case_shows_baseline_and_current_output_side_by_side(
    regression: Comparison,
) -> None:
    page = render_html(regression)
    changed = changed_cases(regression)
    assert len(changed) == 12
    assert page.count('<article class="case">') == 12
    assert "Cases that changed (12)" in page
    article = page[page.index("<h3>billing-05") :]
    article = article[: article.index("</article>")]
    assert "<h4>baseline</h4><pre>answer for billing-05</pre>" in article
    assert "<h4>now</h4><pre>a much longer answer for billing-05</pre>" in article


def test_cases_without_an_answer_are_listed_with_their_error(errored: Comparison) -> None:
    page = render_html(errored)
    assert "Cases without an answer (14)" in page
    assert "<td>server_error</td>" in page


def test_write_html_writes_one_file(regression: Comparison, tmp_path: Path) -> None:
    path = tmp_path / "out" / "report.html"
    write_html(regression, path)
    assert [p.name for p in path.parent.iterdir()] == ["report.html"]
    assert path.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")


def chromium(*args: str, profile: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            str(CHROMIUM),
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            f"--user-data-dir={profile}",
            *args,
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.skipif(
    not CHROMIUM.exists(),
    reason="needs Debian's chromium at /usr/bin/chromium "
    "(apt-get install chromium; .ci/run installs it)",
)
def test_headless_chromium_shows_the_verdict_and_charts_and_runs_no_script(
    hostile: Comparison, tmp_path: Path
) -> None:
    history = [history_row(0.99, "2024-05-06T14:00:00+00:00")]
    report = tmp_path / "report.html"
    write_html(hostile, report, history)
    shot = tmp_path / "report.png"
    done = chromium(
        "--screenshot=" + str(shot),
        "--window-size=1280,2000",
        report.as_uri(),
        profile=tmp_path / "profile-shot",
    )
    assert shot.exists(), done.stderr[-2000:]
    assert shot.read_bytes().startswith(b"\x89PNG")
    assert shot.stat().st_size > 10_000  # a rendered page, not a blank frame
    extra = os.environ.get("CANARY_ARTIFACTS")
    for target in [ARTIFACTS, *([Path(extra)] if extra else [])]:
        target.mkdir(parents=True, exist_ok=True)
        shutil.copy(shot, target / "report.png")
        shutil.copy(report, target / "report.html")

    dom = chromium("--dump-dom", report.as_uri(), profile=tmp_path / "profile-dom").stdout
    assert "<h1>REGRESSION</h1>" in dom
    assert dom.count("<svg") == 3
    assert "<polyline" in dom
    assert "<script" not in dom.lower()
    assert not re.search(r"<body[^>]*data-pwned", dom)  # the onerror handler never ran
    assert "<title>canary support-bot: REGRESSION</title>" in dom  # no script renamed the page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in dom
