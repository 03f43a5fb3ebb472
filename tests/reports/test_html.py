"""The HTML report: one self-contained page, every untrusted string shown as text."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from dataclasses import replace
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
    assert "0.700  (95 % CI 0.550 to 0.826)" in page
    assert "<td>billing</td>" in page
    assert "<td>shipping</td>" in page
    assert ">regressed</td>" in page
    assert "<th>pages from</th>" in page
    assert f"pages on drops of {regression.quality.min_paged_drop:.1%} or more" in page
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


def trend_of(page: str) -> str:
    trend = page[page.index('aria-label="score trend') :]
    return trend[: trend.index("</svg>")]


def xs(svg: str) -> list[float]:
    return [float(x) for x in re.findall(r'<circle cx="([\d.]+)"', svg)]


def test_charts_scale_with_the_page_and_follow_the_colour_scheme(regression: Comparison) -> None:
    page = render_html(regression)
    assert "@media (prefers-color-scheme:dark)" in page
    assert "svg.chart{display:block;width:100%" in page
    for svg in re.findall(r"<svg [^>]*>", page):
        assert 'viewBox="0 0 ' in svg
        assert "width=" not in svg.replace("viewBox", "")  # no fixed pixel size
    assert not re.search(r'(fill|stroke)="#', page)  # colours come from the stylesheet


def test_the_trend_spaces_runs_by_time_and_draws_failed_runs_as_failures(
    regression: Comparison,
) -> None:
    history = [
        history_row(0.98, "2024-05-01T14:00:00+00:00"),
        history_row(0.99, "2024-05-02T14:00:00+00:00"),
        # Half the calls failed: the score of the rest is not a score of the run.
        replace(history_row(1.0, "2024-05-03T14:00:00+00:00"), verdict="error"),
    ]
    trend = trend_of(render_html(regression, history))
    first, second, current = xs(trend)  # the errored run has no point on the scale
    day = second - first
    assert round((current - second) / day, 3) == 5.0  # May 2 to May 7 is five days
    assert trend.count('class="c-err"') == 1
    assert "could not evaluate" in trend
    assert trend.count('class="c-bad"') == 1  # this run, a regression
    assert "2024-05-01 14:00" in trend
    assert "2024-05-07 14:00" in trend


def test_model_and_prompt_changes_are_marked_on_the_trend(regression: Comparison) -> None:
    history = [
        replace(history_row(0.98, "2024-05-04T14:00:00+00:00"), prompt_hash="p0"),
        replace(history_row(0.99, "2024-05-05T14:00:00+00:00"), prompt_hash="p1"),
        replace(history_row(1.0, "2024-05-06T14:00:00+00:00"), prompt_hash="p1"),
    ]
    trend = trend_of(render_html(regression, history))
    marks = re.findall(r'class="c-mark"><title>([^<]*)</title>', trend)
    assert marks == ["prompt changed", "model: sim-drift (fp_b)"]


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


# A page of the test's own that frames the report at a phone's width and measures it: the report
# itself runs no script (its CSP forbids it), so the measuring happens outside it.
HARNESS = """<!DOCTYPE html><html><body style="margin:0">
<iframe id="r" src="report.html" style="width:390px;height:40000px;border:0"></iframe>
<pre id="out">pending</pre><script>
document.getElementById("r").addEventListener("load", () => {
  const frame = document.getElementById("r"), doc = frame.contentDocument;
  const wide = [...doc.querySelectorAll("body *")].filter(
    e => e.getBoundingClientRect().right > doc.documentElement.clientWidth + 1
      && !e.closest(".scroll") && !e.closest("svg > *")).map(
        e => e.tagName + "." + e.getAttribute("class"));
  document.getElementById("out").textContent = JSON.stringify({
    scrollWidth: doc.documentElement.scrollWidth, clientWidth: doc.documentElement.clientWidth,
    wide: wide.slice(0, 5),
    dark: frame.contentWindow.matchMedia("(prefers-color-scheme: dark)").matches,
    background: getComputedStyle(doc.body).backgroundColor,
    chart: doc.querySelector("svg.chart").getBoundingClientRect().width});
});
</script></body></html>"""


def measure(report: Path, tmp_path: Path, *flags: str) -> dict[str, object]:
    harness = report.with_name("harness.html")
    harness.write_text(HARNESS)
    done = chromium(
        "--allow-file-access-from-files",
        "--virtual-time-budget=5000",
        *flags,
        "--dump-dom",
        harness.as_uri(),
        profile=tmp_path / f"profile-measure{len(flags)}",
    )
    found = re.search(r'<pre id="out">([^<]*)</pre>', done.stdout)
    assert found, done.stderr[-2000:]
    assert found.group(1) != "pending", done.stderr[-2000:]
    measured: dict[str, object] = json.loads(found.group(1))
    return measured


@pytest.mark.skipif(
    not CHROMIUM.exists(),
    reason="needs Debian's chromium at /usr/bin/chromium "
    "(apt-get install chromium; .ci/run installs it)",
)
def test_on_a_phone_and_in_dark_mode_nothing_overflows_and_the_page_is_dark(
    hostile: Comparison, tmp_path: Path
) -> None:
    history = [
        history_row(0.99, "2024-05-05T14:00:00+00:00"),
        replace(history_row(0.4, "2024-05-06T14:00:00+00:00"), verdict="error"),
    ]
    report = tmp_path / "report.html"
    write_html(hostile, report, history)
    light = measure(report, tmp_path)
    assert light["scrollWidth"] == light["clientWidth"] == 390, light
    assert light["wide"] == []
    assert light["dark"] is False
    assert light["background"] == "rgb(255, 255, 255)"
    assert isinstance(light["chart"], float | int)
    assert light["chart"] <= 390
    dark = measure(report, tmp_path, "--force-dark-mode")
    assert dark["dark"] is True
    assert dark["background"] == "rgb(18, 18, 18)"
    assert dark["scrollWidth"] == 390
    shots = []
    for name, flags in (("report-390px.png", ()), ("report-dark.png", ("--force-dark-mode",))):
        shot = tmp_path / name
        chromium(
            f"--screenshot={shot}",
            "--window-size=390,2400",
            "--hide-scrollbars",
            *flags,
            report.as_uri(),
            profile=tmp_path / f"profile-{name}",
        )
        assert shot.read_bytes().startswith(b"\x89PNG")
        shots.append(shot)
    extra = os.environ.get("CANARY_ARTIFACTS")
    for target in [ARTIFACTS, *([Path(extra)] if extra else [])]:
        target.mkdir(parents=True, exist_ok=True)
        for shot in shots:
            shutil.copy(shot, target / shot.name)
