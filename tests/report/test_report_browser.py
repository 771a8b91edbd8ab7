"""A rendered report in a real browser: headless Chromium loads it without console messages,
shows its sections and decodes every image, and a screenshot of it is not blank.

Chromium is driven as a plain subprocess (``--dump-dom``, ``--screenshot``); the test skips
only when no ``chromium`` executable is installed. Set ``EXPRLAB_SCREENSHOT_DIR`` to keep the
screenshot.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import matplotlib.image as mpimg
import numpy as np
import pytest
from test_report_fixtures import make_match_run, make_xai_run

from exprlab.report import render_report, write_run_manifest

CHROMIUM = next((shutil.which(n) for n in ("chromium", "chromium-browser") if shutil.which(n)), None)
pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="chromium is not installed (Debian: apt-get install chromium)"
)

# After loading, count the images that decoded and expose the result in the DOM.
_PROBE = """<script>
window.addEventListener('load', function () {
  var imgs = Array.prototype.slice.call(document.images);
  var ok = imgs.filter(function (i) { return i.complete && i.naturalWidth > 0; }).length;
  var p = document.createElement('p');
  p.id = 'probe';
  p.textContent = 'images ' + ok + '/' + imgs.length;
  document.body.appendChild(p);
});
</script>"""


def _chromium(tmp: Path, *args: str) -> subprocess.CompletedProcess:
    cmd = [
        CHROMIUM,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-dev-shm-usage",
        f"--user-data-dir={tmp / 'profile'}",
        "--enable-logging=stderr",
        "--v=0",
        *args,
    ]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=False)


def _console_messages(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if ":CONSOLE" in line]


@pytest.fixture(scope="module")
def report(tmp_path_factory) -> Path:
    run = tmp_path_factory.mktemp("demo_like")
    make_match_run(run / "matching")
    make_xai_run(run / "explanations")
    write_run_manifest(
        run,
        "demo",
        {"seed": 0},
        [],
        summary={"text": ["Summary line."], "cards": [{"label": "MAP", "value": "0.43"}]},
    )
    return render_report(run)


def test_console_message_detection_works(tmp_path):
    """The detector itself: a page that logs to the console is caught."""
    page = tmp_path / "bad.html"
    page.write_text("<html><body><script>console.error('probe-error')</script></body></html>")
    res = _chromium(tmp_path, "--dump-dom", page.as_uri())
    assert any("probe-error" in m for m in _console_messages(res.stderr)), res.stderr[-2000:]


def test_report_loads_with_sections_and_images_and_no_console_messages(report, tmp_path):
    res = _chromium(tmp_path, "--dump-dom", report.as_uri())
    assert res.returncode == 0, res.stderr[-2000:]
    assert _console_messages(res.stderr) == []
    dom = res.stdout
    sections = re.findall(r'<section id="([^"]+)"', dom)
    assert sections[0] == "summary"
    for sid in (
        "explanations-explanations",
        "drug-disease-retrieval-matching",
        "parameters-versions-and-data-provenance",
    ):
        assert sid in sections
    n_images = len(re.findall(r"<img ", dom))
    assert n_images >= 8

    probe = tmp_path / "probe.html"
    probe.write_text(report.read_text().replace("</body>", _PROBE + "</body>"))
    res = _chromium(tmp_path, "--virtual-time-budget=5000", "--dump-dom", probe.as_uri())
    found = re.search(r'<p id="probe">images (\d+)/(\d+)</p>', res.stdout)
    assert found, res.stdout[-500:]
    assert int(found.group(1)) == int(found.group(2)) == n_images


def test_screenshot_is_not_blank(report, tmp_path):
    shot = tmp_path / "shot.png"
    res = _chromium(
        tmp_path, f"--screenshot={shot}", "--window-size=1200,1600", "--hide-scrollbars", report.as_uri()
    )
    assert shot.is_file(), res.stderr[-2000:]
    img = mpimg.imread(shot)[..., :3]
    assert img.shape[0] >= 1000 and img.shape[1] >= 1000
    background = np.median(img.reshape(-1, 3), axis=0)
    differs = np.abs(img - background).max(axis=2) > 0.1
    assert differs.mean() > 0.05  # text, header, cards and plots cover the page
    assert img.std() > 0.05
    keep = os.environ.get("EXPRLAB_SCREENSHOT_DIR")
    if keep:  # keep the screenshot for humans (CI artefact)
        Path(keep).mkdir(parents=True, exist_ok=True)
        shutil.copy(shot, Path(keep) / "report-screenshot.png")
